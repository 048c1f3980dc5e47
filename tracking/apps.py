from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "tracking"
    verbose_name = "Clicks, impressions and conversions"

    def ready(self) -> None:
        # Click hot path: evict cached link snapshots when offers, accesses or caps change.
        from tracking import audit
        from tracking.clickpath import admin, links  # noqa: F401

        links.connect_signals()
        audit.register()
        from django.db.models.signals import post_delete, post_save

        from affiliates.models import TrackingDomain
        from tracking.clickpath import hosts

        for signal in (post_save, post_delete):
            signal.connect(hosts.hosts_forget, sender=TrackingDomain, dispatch_uid=f"hosts-{signal}")
