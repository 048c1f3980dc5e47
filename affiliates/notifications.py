"""Notifications: in-app messages (the bell), e-mails owed, and what each user wants to get.

General on purpose (recipient, kind, title, body, link, read): any app may notify through
``affiliates.notify``. It lives at the bottom (affiliates) so that every app can notify without
importing upwards; ``affiliates.models`` imports the models so Django registers them here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone


class Kind(models.TextChoices):
    """What happened. Each user turns each kind on or off, per channel."""

    SIGNUP_RECEIVED = "signup_received", "Sign-up received"
    SIGNUP_DECIDED = "signup_decided", "Sign-up approved or rejected"
    ACCESS_REQUESTED = "access_requested", "Offer access requested"
    ACCESS_DECIDED = "access_decided", "Offer access approved or rejected"
    OFFER_CHANGED = "offer_changed", "Offer changed"
    OFFER_PAUSED = "offer_paused", "Offer paused"
    CAP_NEAR = "cap_near", "Cap at 80 %"
    CAP_REACHED = "cap_reached", "Cap reached"
    CONVERSION_REVERSED = "conversion_reversed", "Conversion reversed"
    PAYOUT_APPROVED = "payout_approved", "Payout run approved"
    PAYOUT_PAID = "payout_paid", "Payout paid"
    INVOICE_ISSUED = "invoice_issued", "Invoice issued"
    INVOICE_OVERDUE = "invoice_overdue", "Invoice overdue"
    POSTBACK_FAILING = "postback_failing", "Postback endpoint failing"
    RULE_FIRED = "rule_fired", "Automation rule fired"
    TEAM_INVITE = "team_invite", "Team invitation"


class Channel(models.TextChoices):
    IN_APP = "in_app", "In the portal"
    EMAIL = "email", "E-mail"


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        help_text="Who sees it.",
    )
    kind = models.CharField(
        max_length=32, choices=Kind.choices, blank=True, help_text="What happened; blank for older rows."
    )
    title = models.CharField(max_length=200, help_text="One line, shown in the list.")
    body = models.TextField(blank=True, help_text="The details.")
    link = models.CharField(max_length=500, blank=True, help_text="A path on this site to look at.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    read_at = models.DateTimeField(null=True, blank=True, help_text="When the recipient read it.")

    class Meta:
        app_label = "affiliates"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["recipient", "created_at"],
                name="notification_unread",
                condition=models.Q(read_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return self.title


class NotificationPreference(models.Model):
    """A user's choice for one kind on one channel. No row: the kind is on (the default)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    enabled = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "affiliates"
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "channel"], name="notification_pref_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} {self.channel}: {'on' if self.enabled else 'off'}"


class NotificationEmail(models.Model):
    """An e-mail owed to one user, or to an address with no user yet (a team invitation);
    a Celery task sends it by id, with retries."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"
        SENT = "sent"
        FAILED = "failed", "Failed (given up)"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    to = models.EmailField(help_text="The address when it was owed.")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "affiliates"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["created_at"], name="notification_email_pending", condition=models.Q(status="pending")
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to}"


class NotifiedEvent(models.Model):
    """An event already announced (``invoice_overdue:42``): checks that run every few minutes
    (caps, overdue invoices, failing postbacks) notify once, whatever the race."""

    key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        app_label = "affiliates"

    def __str__(self) -> str:
        return self.key


def notifications_create(
    *, recipients: Iterable[Any], title: str, body: str = "", link: str = "", kind: str = ""
) -> int:
    """One notification per recipient (each user at most once); the number written."""
    unique = {user.pk: user for user in recipients}
    rows = [
        Notification(recipient=user, kind=kind, title=title[:200], body=body, link=link[:500])
        for user in unique.values()
    ]
    Notification.objects.bulk_create(rows)
    return len(rows)


def notifications_unread_count(*, user: Any) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notifications_mark_read(*, user: Any, ids: Iterable[int] | None = None) -> int:
    """Mark the user's notifications read (these ids, or all); the number changed."""
    rows = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    return rows.update(read_at=timezone.now())
