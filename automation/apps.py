from django.apps import AppConfig


class AutomationConfig(AppConfig):
    name = "automation"
    verbose_name = "Automation rules"

    def ready(self) -> None:
        # Register the Celery tasks under their names, so eager runs and beat find them.
        from automation import tasks  # noqa: F401
