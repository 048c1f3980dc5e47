"""Celery entry points for report rollups. Thin: each calls one service."""

from __future__ import annotations

from celery import shared_task

from payouts.reports.services import rollups_refresh


@shared_task(name="payouts.reports.rollup_refresh", ignore_result=True)
def reports_rollup_refresh() -> dict[str, object]:
    result = rollups_refresh()
    return {
        "hours_rebuilt": result.hours_rebuilt,
        "dirty_marks_cleared": result.dirty_marks_cleared,
        "settled_day": result.settled_day.isoformat() if result.settled_day else None,
    }
