from django.apps import AppConfig


class AffiliatesConfig(AppConfig):
    name = "affiliates"
    verbose_name = "Advertisers, publishers and offers"

    def ready(self) -> None:
        from affiliates import audit, tasks  # noqa: F401  (tasks: registered for eager runs too)

        audit.register()
