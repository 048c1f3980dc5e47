"""Celery tasks for publisher postbacks: thin wrappers that take ids and call one service.

Retries are not Celery retries: the schedule lives in the database (``next_attempt_at``), so
it survives broker restarts, and Redis' visibility timeout cannot re-deliver a long countdown
twice. ``callbacks_retry_due`` (beat, every minute) enqueues what has come due.
"""

from __future__ import annotations

from celery import shared_task

from payouts.callbacks import dispatch, services, webhooks


# The HTTP attempt is bounded at 5 s; the limits only catch a wedged worker.
@shared_task(name=dispatch.DELIVER_TASK, ignore_result=True, soft_time_limit=30, time_limit=60)
def callback_deliver(delivery_id: int) -> None:
    services.delivery_attempt(delivery_id=delivery_id)


@shared_task(name=dispatch.RETRY_DUE_TASK, ignore_result=True, soft_time_limit=50, time_limit=60)
def callbacks_retry_due() -> int:
    return services.deliveries_due_enqueue()


@shared_task(name="payouts.callbacks.webhook_clicks", ignore_result=True, soft_time_limit=50, time_limit=60)
def webhook_clicks_scan() -> int:
    """Owe click events to click subscribers (beat, every minute)."""
    return webhooks.webhooks_clicks_scan()
