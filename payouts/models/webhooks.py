"""Webhook subscriptions: integrators' URLs that get signed JSON events.

The network (staff), an advertiser or a publisher subscribes a URL to some events. Each event
owed to a subscription is a ``CallbackDelivery`` with ``subscription`` set: the publisher
postbacks' machinery (vetted addresses, retries with backoff for 24 h, the attempt log,
re-send) delivers it, so both share one delivery worker and one log table.

The secret is stored because every delivery is signed with it (HMAC needs the secret, not a
hash); the API and the portal show it only when it is created or rotated. After a rotation the
previous secret still signs, beside the new one, for ``ROTATION_GRACE``, so a receiver can
switch without losing events.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

ROTATION_GRACE = timedelta(hours=24)


def new_webhook_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


class WebhookEvent(models.TextChoices):
    CLICK = "click", "Click recorded"
    CONVERSION_CREATED = "conversion.created", "Conversion created"
    CONVERSION_STATUS_CHANGED = "conversion.status_changed", "Conversion status changed"
    COMMISSION = "commission", "Commission created, approved, rejected or reversed"
    PAYOUT = "payout", "Payout approved, paid or failed"
    INVOICE = "invoice", "Invoice issued"


# Who may subscribe to what: advertisers are not paid, publishers are not invoiced.
EVENTS_FOR_OWNER: dict[str, tuple[str, ...]] = {
    "network": tuple(WebhookEvent.values),
    "advertiser": (
        WebhookEvent.CLICK,
        WebhookEvent.CONVERSION_CREATED,
        WebhookEvent.CONVERSION_STATUS_CHANGED,
        WebhookEvent.COMMISSION,
        WebhookEvent.INVOICE,
    ),
    "publisher": (
        WebhookEvent.CLICK,
        WebhookEvent.CONVERSION_CREATED,
        WebhookEvent.CONVERSION_STATUS_CHANGED,
        WebhookEvent.COMMISSION,
        WebhookEvent.PAYOUT,
    ),
}


class WebhookSubscription(models.Model):
    class Owner(models.TextChoices):
        NETWORK = "network", "The network (staff)"
        ADVERTISER = "advertiser"
        PUBLISHER = "publisher"

    owner = models.CharField(max_length=16, choices=Owner.choices, help_text="Whose events it gets.")
    advertiser = models.ForeignKey(
        "affiliates.Advertiser",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="webhook_subscriptions",
        help_text="The advertiser whose offers' events it gets (owner advertiser).",
    )
    publisher = models.ForeignKey(
        "affiliates.Publisher",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="webhook_subscriptions",
        help_text="The publisher whose events it gets (owner publisher).",
    )
    name = models.CharField(max_length=100, blank=True, help_text="A label for people.")
    # Vetted by payouts.callbacks.webhooks (http/https, public address) and again at each attempt.
    url = models.CharField(max_length=2000, help_text="Where the events are POSTed, as signed JSON.")
    events = models.JSONField(default=list, help_text="The events it gets: click, conversion.created, ...")
    secret = models.CharField(max_length=64, default=new_webhook_secret, editable=False)
    previous_secret = models.CharField(max_length=64, blank=True, editable=False)
    previous_secret_until = models.DateTimeField(null=True, blank=True, editable=False)
    is_active = models.BooleanField(
        default=True, help_text="Inactive: nothing is sent, owed events are given up."
    )
    # Clicks are announced by a periodic scan (they are written in bulk by the click consumer):
    # the time up to which this subscription's clicks were considered.
    clicks_seen_until = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                name="webhook_owner_matches",
                condition=(
                    Q(owner="network", advertiser__isnull=True, publisher__isnull=True)
                    | Q(owner="advertiser", advertiser__isnull=False, publisher__isnull=True)
                    | Q(owner="publisher", advertiser__isnull=True, publisher__isnull=False)
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.name or f"Webhook #{self.pk} ({self.owner})"

    def signing_secrets(self, *, at: object = None) -> list[str]:
        """The secrets a delivery is signed with now: the current one, and the previous one
        during its grace period."""
        now = at or timezone.now()
        keep_old = self.previous_secret and self.previous_secret_until and self.previous_secret_until > now  # type: ignore[operator]
        return [self.secret, self.previous_secret] if keep_old else [self.secret]
