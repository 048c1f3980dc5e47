from django.apps import AppConfig


class AffiliatesConfig(AppConfig):
    name = "affiliates"
    verbose_name = "Advertisers, publishers and offers"

    def ready(self) -> None:
        from affiliates import audit

        audit.register()
