"""The dashboards' periods, shared by the pages of every app (the pages live in the lowest app
whose data they show: the dashboards in payouts.portal, the traffic tables in tracking.portal)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

PERIODS = {"today": "Today", "yesterday": "Yesterday", "7d": "Last 7 days", "30d": "Last 30 days"}


def period_bounds(period: str, now: datetime | None = None) -> tuple[datetime, datetime]:
    """[start, end) in UTC for a dashboard period name; unknown names mean the last 7 days."""
    now = now or timezone.now()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "today":
        return midnight, now
    if period == "yesterday":
        return midnight - timedelta(days=1), midnight
    days = 30 if period == "30d" else 7
    return midnight - timedelta(days=days - 1), now
