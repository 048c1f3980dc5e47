from django.apps import AppConfig


class AffiliatesConfig(AppConfig):
    name = "affiliates"
    verbose_name = "Advertisers, publishers and offers"

    def ready(self) -> None:
        from affiliates import audit, tasks  # noqa: F401  (tasks: registered for eager runs too)

        audit.register()
        from django.db.models.signals import post_delete, post_save

        from affiliates.tracking_domains import TrackingDomain, tracking_domains_forget

        for signal in (post_save, post_delete):
            signal.connect(tracking_domains_forget, sender=TrackingDomain, dispatch_uid=f"domains-{signal}")
