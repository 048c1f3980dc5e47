"""AbVariantDaily: per A/B variant and UTC day of the click, its clicks, converting clicks,
revenue and payout with their sums of squares per click (the variance a mean metric needs).

Like the smart-link rollup (payouts/smartlinks/rollup.py): whole days recomputed under one
transaction, clicks by their ``created_at`` range (the BRIN index), a late conversion counted
on its click's day. The per-click sums group commissions by click: conversions are few.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.db.models.functions import TruncDate

from payouts.experiments.models import AbVariantDaily
from payouts.models import Commission
from payouts.smartlinks.rollup import EARNING, ZERO, clicks_per_day, day_start
from tracking.models import AbVariant


def _per_click(start: datetime, end: datetime) -> dict[tuple[int, date], dict[str, Any]]:
    rows = (
        Commission.objects.filter(
            kind=Commission.Kind.CONVERSION,
            status__in=EARNING,
            conversion__click__created_at__gte=start,
            conversion__click__created_at__lt=end,
            conversion__click__ab_variant_id__isnull=False,
        )
        .annotate(click_day=TruncDate("conversion__click__created_at", tzinfo=UTC))
        .values("conversion__click_id", "conversion__click__ab_variant_id", "click_day")
        .annotate(revenue_sum=Sum("revenue"), payout_sum=Sum("payout"))
    )
    out: dict[tuple[int, date], dict[str, Any]] = defaultdict(
        lambda: {"n": 0, "revenue": ZERO, "payout": ZERO, "revenue_sq": 0.0, "payout_sq": 0.0}
    )
    for r in rows:
        acc = out[(r["conversion__click__ab_variant_id"], r["click_day"])]
        revenue, payout = r["revenue_sum"] or ZERO, r["payout_sum"] or ZERO
        acc["n"] += 1
        acc["revenue"] += revenue
        acc["payout"] += payout
        acc["revenue_sq"] += float(revenue) ** 2
        acc["payout_sq"] += float(payout) ** 2
    return out


@transaction.atomic
def ab_rollup_refresh(*, first: date, last: date) -> int:
    """Recompute the rows of days ``first``..``last``; returns how many rows it wrote."""
    start, end = day_start(first), day_start(last + timedelta(days=1))
    clicks = clicks_per_day(column="ab_variant_id", start=start, end=end)
    money = _per_click(start, end)
    keys = set(clicks) | set(money)
    currencies = dict(
        AbVariant.objects.filter(pk__in={k[0] for k in keys}).values_list("pk", "test__offer__currency")
    )
    rows = []
    for variant_id, day in keys:
        if variant_id not in currencies:  # a removed variant: its clicks stay, its rollup goes
            continue
        m = money.get((variant_id, day), {})
        rows.append(
            AbVariantDaily(
                variant_id=variant_id,
                day=day,
                clicks=clicks.get((variant_id, day), 0),
                conversions=m.get("n", 0),
                currency=currencies[variant_id],
                revenue=m.get("revenue", ZERO),
                payout=m.get("payout", ZERO),
                revenue_sq=m.get("revenue_sq", 0.0),
                payout_sq=m.get("payout_sq", 0.0),
            )
        )
    AbVariantDaily.objects.filter(day__gte=first, day__lte=last).delete()
    AbVariantDaily.objects.bulk_create(rows)
    return len(rows)
