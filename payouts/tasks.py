"""Celery tasks: thin wrappers that take ids or ranges and call one service.

Every task retries only on OperationalError (a dropped connection, a deadlock victim, a
serialization failure): anything else is a bug and must surface, not loop. Each reconciliation
batch is its own database transaction, so a retry or a killed worker redoes at most one batch.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from celery import shared_task
from django.db import OperationalError
from django.db.models import Max, Min
from django.utils import timezone

from affiliates.models import Goal
from payouts import notices, reconcile, services, traffic
from payouts.models import Commission, CommissionStatus
from tracking.models import UnreconciledConversion

RANGE_SIZE = 20_000  # conversion ids per task: a few seconds of work, so time limits never bite
_RETRY: dict[str, Any] = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": 2,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 5,
}


@shared_task(name="payouts.reconcile_conversions", soft_time_limit=240, time_limit=300, **_RETRY)
def reconcile_conversions(after_id: int = 0, until_id: int | None = None) -> dict[str, int]:
    result = reconcile.conversions_reconcile(after_id=after_id, until_id=until_id)
    return {
        "claimed": result.claimed,
        "created": result.created,
        "changed": result.changed,
        "skipped": result.skipped,
    }


@shared_task(name="payouts.reconcile_traffic", soft_time_limit=240, time_limit=300, **_RETRY)
def reconcile_traffic(day_from: str, day_to: str) -> dict[str, int]:
    return traffic.traffic_reconcile(day_from=date.fromisoformat(day_from), day_to=date.fromisoformat(day_to))


@shared_task(name="payouts.approve_due_commissions", soft_time_limit=240, time_limit=300, **_RETRY)
def approve_due_commissions() -> int:
    return services.commissions_approve_due()


def conversion_ranges(size: int = RANGE_SIZE) -> list[tuple[int, int]]:
    """The reconciliation queue as (after_id, until_id] ranges of conversion ids, for parallel
    workers."""
    bounds = UnreconciledConversion.objects.aggregate(lo=Min("conversion_id"), hi=Max("conversion_id"))
    if bounds["lo"] is None:
        return []
    lo, hi = bounds["lo"] - 1, bounds["hi"]
    return [(start, min(start + size, hi)) for start in range(lo, hi, size)]


@shared_task(name="payouts.reconcile_tick", soft_time_limit=50, time_limit=60, **_RETRY)
def reconcile_tick() -> int:
    """Every PAYOUTS_RECONCILE_INTERVAL_SECONDS (beat): fan the backlog out by id range, recount
    today's and yesterday's CPC/CPM lines (late clicks land after midnight), approve what is due.

    Each is queued only when there is work (a queued conversion, a CPC/CPM goal, a commission
    past its hold): a short interval must not become a storm of empty tasks competing with the
    app server for the same cores. The checks are index lookups.
    """
    ranges = conversion_ranges()
    for after_id, until_id in ranges:
        reconcile_conversions.delay(after_id, until_id)
    now = timezone.now()
    if Goal.objects.filter(payout_type__in=(Goal.PayoutType.CPC, Goal.PayoutType.CPM)).exists():
        today = now.date()
        reconcile_traffic.delay((today - timedelta(days=1)).isoformat(), today.isoformat())
    due = Commission.objects.filter(
        status=CommissionStatus.PENDING, held_for_review=False, hold_until__lte=now
    )
    if due.exists():
        approve_due_commissions.delay()
    return len(ranges)


@shared_task(name="payouts.notices_tick", ignore_result=True, soft_time_limit=120, time_limit=180, **_RETRY)
def notices_tick() -> int:
    """Caps at 80 % or full, invoices overdue: each announced once (notify's key)."""
    return notices.caps_notify() + notices.invoices_overdue_notify()
