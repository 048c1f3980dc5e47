from django.apps import AppConfig


class PayoutsConfig(AppConfig):
    name = "payouts"
    verbose_name = "Commissions, ledger and payouts"

    def ready(self) -> None:
        from payouts import lookups

        lookups.register()
