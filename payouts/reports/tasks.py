"""Celery entry points for report rollups. Thin: each calls one service."""

from __future__ import annotations

from celery import shared_task

from payouts.reports.customers.services import customer_value_refresh
from payouts.reports.services import rollups_refresh


@shared_task(name="payouts.reports.rollup_refresh", ignore_result=True)
def reports_rollup_refresh() -> dict[str, object]:
    result = rollups_refresh()
    return {
        "hours_rebuilt": result.hours_rebuilt,
        "dirty_marks_cleared": result.dirty_marks_cleared,
        "settled_day": result.settled_day.isoformat() if result.settled_day else None,
    }


@shared_task(name="payouts.reports.customer_value_refresh", ignore_result=True)
def customer_value_refresh_task(full: bool = False) -> dict[str, object]:
    result = customer_value_refresh(full=full)
    return {"customers": result.customers, "cohort_rows": result.cohort_rows, "mix_rows": result.mix_rows}
