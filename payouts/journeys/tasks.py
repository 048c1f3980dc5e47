"""Celery entry point of the journey job. Thin: it calls one service."""

from __future__ import annotations

from celery import shared_task

from payouts.journeys.services import journeys_refresh


@shared_task(name="payouts.journeys.refresh", ignore_result=True)
def journeys_refresh_task(days: int | None = None) -> dict[str, object]:
    result = journeys_refresh(days=days)
    return {"journeys": result.journeys, "touches": result.touches, "assists": result.assists}
