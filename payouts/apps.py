from django.apps import AppConfig


class PayoutsConfig(AppConfig):
    name = "payouts"
    verbose_name = "Commissions, ledger and payouts"

    def ready(self) -> None:
        from payouts import audit, lookups
        from payouts.callbacks import tasks  # noqa: F401  (registers the tasks dispatch sends by name)

        lookups.register()
        audit.register()
