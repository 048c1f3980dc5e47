"""In-app notifications: a message for one user, shown under the bell in the portal header.

General on purpose (recipient, title, body, link, read): automation rules post them today,
and any app may. It lives at the bottom (affiliates) so that every app can notify without
importing upwards; ``affiliates.models`` imports the model so Django registers it here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        help_text="Who sees it.",
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


def notifications_create(*, recipients: Iterable[Any], title: str, body: str = "", link: str = "") -> int:
    """One notification per recipient (each user at most once); the number written."""
    unique = {user.pk: user for user in recipients}
    rows = [
        Notification(recipient=user, title=title[:200], body=body, link=link[:500])
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
