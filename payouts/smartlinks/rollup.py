"""SmartPathDaily: per smart-link path and UTC day, its clicks, conversions, revenue and payout.

The optimiser and the per-path stats read these rows, never the clicks table. Refreshing
recomputes whole days (delete and insert under one transaction): clicks sent to a path (reason
empty) by the click's day, and the earning commissions (pending, approved) of conversions on
those clicks, at the click's day, so a late conversion raises the CVR of the day its click came.
The days read are a time range on ``created_at``: the BRIN index serves it, as for every rollup.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, Sum
from django.db.models.functions import TruncDate

from payouts.models import Commission
from tracking.models import Click, SmartPath, SmartPathDaily

EARNING = ("pending", "approved")
ZERO = Decimal("0")


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def clicks_per_day(*, column: str, start: datetime, end: datetime) -> dict[tuple[int, date], int]:
    """Clicks sent on (reason empty) per value of ``column`` (a path, a variant) and UTC day."""
    rows = (
        Click.objects.filter(
            created_at__gte=start, created_at__lt=end, reason="", **{f"{column}__isnull": False}
        )
        .annotate(day=TruncDate("created_at", tzinfo=UTC))
        .values(column, "day")
        .annotate(n=Count("id"))
    )
    return {(r[column], r["day"]): r["n"] for r in rows}


def _commission_sums(start: datetime, end: datetime) -> dict[tuple[int, date], dict[str, Any]]:
    rows = (
        Commission.objects.filter(
            kind=Commission.Kind.CONVERSION,
            status__in=EARNING,
            conversion__click__created_at__gte=start,
            conversion__click__created_at__lt=end,
            conversion__click__smart_path_id__isnull=False,
        )
        .annotate(click_day=TruncDate("conversion__click__created_at", tzinfo=UTC))
        .values("conversion__click__smart_path_id", "click_day")
        .annotate(n=Count("id"), revenue_sum=Sum("revenue"), payout_sum=Sum("payout"))
    )
    return {(r["conversion__click__smart_path_id"], r["click_day"]): r for r in rows}


@transaction.atomic
def smart_rollup_refresh(*, first: date, last: date) -> int:
    """Recompute the rows of days ``first``..``last``; returns how many rows it wrote."""
    start, end = day_start(first), day_start(last + timedelta(days=1))
    clicks = clicks_per_day(column="smart_path_id", start=start, end=end)
    money = _commission_sums(start, end)
    keys = set(clicks) | set(money)
    paths = dict(SmartPath.objects.filter(pk__in={k[0] for k in keys}).values_list("pk", "offer__currency"))
    rows: dict[tuple[int, date], SmartPathDaily] = {}
    for path_id, day in keys:
        if path_id not in paths:  # a removed path: its clicks stay, its rollup goes
            continue
        m = money.get((path_id, day), {})
        rows[(path_id, day)] = SmartPathDaily(
            path_id=path_id,
            day=day,
            clicks=clicks.get((path_id, day), 0),
            conversions=m.get("n", 0),
            currency=paths[path_id],
            revenue=m.get("revenue_sum") or ZERO,
            payout=m.get("payout_sum") or ZERO,
        )
    SmartPathDaily.objects.filter(day__gte=first, day__lte=last).delete()
    SmartPathDaily.objects.bulk_create(rows.values())
    return len(rows)
