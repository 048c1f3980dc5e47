from django.apps import AppConfig


class ExperimentsConfig(AppConfig):
    name = "payouts.experiments"
    label = "experiments"
    verbose_name = "A/B tests and budget shifts"

    def ready(self) -> None:
        # Register the Celery tasks under their names, so eager runs and beat find them.
        from payouts.experiments import audit, tasks  # noqa: F401

        audit.register()
