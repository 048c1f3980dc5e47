"""A firing's webhook: a signed JSON POST through the publisher postbacks' client and backoff.

The call goes through ``payouts.callbacks.client`` (public addresses only, vetted when it
connects, no redirects, 5 s per attempt) and retries on ``payouts.callbacks.retries``' schedule
for up to 24 h; like postbacks, the schedule lives in the row, not in Celery.

Signature: ``X-Affnet-Signature: sha256=<hex HMAC-SHA256 of the raw body with the rule's
webhook secret>``. The body carries ``fired_at``, so a receiver can refuse old replays.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta
from functools import partial

from celery import current_app
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from payouts.automation.models import Firing, WebhookDelivery
from payouts.automation.selectors import scope_label
from payouts.callbacks import client
from payouts.callbacks.retries import retry_delay

DELIVER_TASK = "automation.webhook_deliver"
GIVE_UP_AFTER = timedelta(hours=24)
CLAIM_LEASE = timedelta(minutes=2)
SIGNATURE_HEADER = "X-Affnet-Signature"


def sign(secret: str, body: str) -> str:
    return hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()


def webhook_body(firing: Firing) -> str:
    rule = firing.rule
    return json.dumps(
        {
            "event": "rule.fired",
            "rule": {"id": rule.pk, "name": rule.name, "scope": rule.scope, "scope_label": scope_label(rule)},
            "firing": {
                "id": firing.pk,
                "target": firing.target,
                "metric": rule.metric,
                "comparison": rule.comparison,
                "threshold": str(rule.threshold),
                "metric_value": str(firing.metric_value),
                "window_start": firing.window_start.isoformat(),
                "window_end": firing.window_end.isoformat(),
                "action": firing.action,
                "detail": firing.detail,
                "fired_at": firing.created_at.isoformat(),
            },
            "offer": {"id": rule.offer_id, "currency": rule.offer.currency},
            "values": firing.values,
        },
        sort_keys=True,
    )


def webhook_enqueue(*, firing: Firing) -> WebhookDelivery:
    """Owe the firing's webhook; sent by the worker once the caller's transaction commits."""
    now = timezone.now()
    body = webhook_body(firing)
    delivery = WebhookDelivery.objects.create(
        firing=firing,
        url=firing.rule.webhook_url,
        body=body,
        signature=sign(firing.rule.webhook_secret, body),
        next_attempt_at=now,
        give_up_at=now + GIVE_UP_AFTER,
        created_at=now,
    )
    send = partial(current_app.signature(DELIVER_TASK, args=(delivery.pk,)).delay)
    transaction.on_commit(send, robust=True)  # broker down: the retry tick sends it
    return delivery


def webhook_attempt(*, delivery_id: int) -> bool | None:
    """One attempt, if due; True delivered, False failed, None when nothing was due."""
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=now + CLAIM_LEASE)
    if not claimed:
        return None  # delivered, given up, not due, or another worker holds it
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    outcome = client.send(
        method="POST",
        url=delivery.url,
        body=delivery.body,
        content_type="application/json",
        extra_headers={SIGNATURE_HEADER: f"sha256={delivery.signature}"},
    )
    rows = WebhookDelivery.objects.filter(pk=delivery_id)
    rows.update(
        attempts_count=F("attempts_count") + 1,
        last_status_code=outcome.status_code,
        last_error=outcome.error[:255],
    )
    done = timezone.now()
    if outcome.ok:
        rows.update(status=WebhookDelivery.Status.DELIVERED, delivered_at=done, next_attempt_at=None)
        return True
    next_at = done + retry_delay(delivery.attempts_count + 1)
    if outcome.retryable and next_at <= delivery.give_up_at:
        rows.update(next_attempt_at=next_at)
    else:
        rows.update(status=WebhookDelivery.Status.FAILED, next_attempt_at=None)
    return False


def webhooks_due_enqueue(*, limit: int = 500) -> int:
    due = WebhookDelivery.objects.filter(
        status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=timezone.now()
    ).values_list("pk", flat=True)[:limit]
    ids = list(due)
    for delivery_id in ids:
        current_app.signature(DELIVER_TASK, args=(delivery_id,)).delay()
    return len(ids)
