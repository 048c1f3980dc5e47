"""affiliates' Celery jobs (beat: CELERY_BEAT_SCHEDULE in config/settings/base.py).

Notification e-mails: one task per e-mail, by id, with Celery retries for a flaky SMTP server.
The row is claimed (pending -> sending) before the SMTP call, so a duplicate task message
cannot send it twice; a failed try puts it back to pending for the retry.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta
from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from affiliates.core.audit_retention import audit_prune
from affiliates.notifications import Kind, NotificationEmail
from affiliates.notify import EMAIL_TASK, emails_due, emails_enqueue

log = logging.getLogger(__name__)
MAX_RETRIES = 6
Status = NotificationEmail.Status


def email_message(email: NotificationEmail) -> EmailMultiAlternatives:
    site = settings.SITE_URL.rstrip("/")
    context = {
        "title": email.title,
        "body": email.body,
        "url": site + email.link if email.link.startswith("/") else email.link,
        "kind": Kind(email.kind).label,
        "preferences_url": site + reverse("portal:notification-settings"),
    }
    message = EmailMultiAlternatives(
        subject=email.title,
        body=render_to_string("notifications/email.txt", context),
        to=[email.to],
    )
    message.attach_alternative(render_to_string("notifications/email.html", context), "text/html")
    return message


@shared_task(
    bind=True,
    name=EMAIL_TASK,
    ignore_result=True,
    max_retries=MAX_RETRIES,
    soft_time_limit=60,
    time_limit=90,
)
def notification_email_send(self: Any, email_id: int) -> None:
    claimed = NotificationEmail.objects.filter(pk=email_id, status=Status.PENDING).update(
        status=Status.SENDING, attempts=F("attempts") + 1
    )
    if not claimed:
        return  # sent, given up, or another worker has it
    email = NotificationEmail.objects.get(pk=email_id)
    try:
        email_message(email).send()
    except (smtplib.SMTPException, OSError) as exc:
        final = self.request.retries >= MAX_RETRIES
        NotificationEmail.objects.filter(pk=email_id).update(
            status=Status.FAILED if final else Status.PENDING, last_error=str(exc)[:255]
        )
        if final:
            log.warning("notification e-mail %s given up: %s", email_id, exc)
            return
        raise self.retry(exc=exc, countdown=min(60 * 2**self.request.retries, 3600)) from exc
    NotificationEmail.objects.filter(pk=email_id).update(status=Status.SENT, sent_at=timezone.now())


@shared_task(name="affiliates.notification_emails_due", ignore_result=True, soft_time_limit=50, time_limit=60)
def notification_emails_due() -> int:
    ids = emails_due(older_than=timezone.now() - timedelta(minutes=5))
    emails_enqueue(email_ids=ids)
    return len(ids)


@shared_task(soft_time_limit=1800, time_limit=1900, acks_late=True)
def audit_prune_task() -> dict[str, Any]:
    """Daily: the audit entries past AUDIT_RETENTION_DAYS go (a repeat deletes nothing)."""
    pruned = audit_prune()
    return {"deleted": pruned.deleted, "cutoff": pruned.cutoff.isoformat()}
