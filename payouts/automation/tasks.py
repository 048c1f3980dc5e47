"""Celery entry points for automation rules. Thin: ids in, one service each.

Beat runs ``rules_tick`` every minute; it claims the rules whose check is due (each rule has
its own frequency, 5 minutes by default) and enqueues one ``rule_check`` per rule id.
"""

from __future__ import annotations

from celery import shared_task

from affiliates.core.audit import audit_system
from payouts.automation import services, webhooks


@shared_task(name="automation.rules_tick", ignore_result=True, soft_time_limit=50, time_limit=60)
def rules_tick() -> int:
    ids = services.rules_due_claim()
    for rule_id in ids:
        rule_check.delay(rule_id)
    return len(ids)


@shared_task(name="automation.rule_check", ignore_result=True, soft_time_limit=50, time_limit=60)
def rule_check(rule_id: int) -> None:
    # What the firing changes (an offer paused, a cap set) is logged with the rule as its source.
    with audit_system(f"automation rule {rule_id}"):
        services.rule_check(rule_id=rule_id)


# The HTTP attempt is bounded at 5 s; the limits only catch a wedged worker.
@shared_task(name=webhooks.DELIVER_TASK, ignore_result=True, soft_time_limit=30, time_limit=60)
def webhook_deliver(delivery_id: int) -> None:
    webhooks.webhook_attempt(delivery_id=delivery_id)


@shared_task(name="automation.webhooks_retry_due", ignore_result=True, soft_time_limit=50, time_limit=60)
def webhooks_retry_due() -> int:
    return webhooks.webhooks_due_enqueue()
