from django.apps import AppConfig


class AutomationConfig(AppConfig):
    name = "payouts.automation"
    label = "automation"  # the tables and migrations keep their names
    verbose_name = "Automation rules"

    def ready(self) -> None:
        # Register the Celery tasks under their names, so eager runs and beat find them.
        from payouts.automation import audit, tasks  # noqa: F401

        audit.register()
