"""Report metrics: derived from summed counters at read time, and who may see which.

Ratios are exact Decimal divisions presented to six places (the precision amounts are stored
with); they are not money that moves, so ``money_round`` is not involved. A zero denominator
gives None, never 0 or an error. Rates (CTR, CVR) are percentages; ROAS and quality are ratios.

CTR is clicks over impressions of one offer: an offer that records no impressions has no CTR,
so a row or total over several offers has none either (reports give CTR per offer).

Cost is the advertiser's spend, i.e. the network's revenue: CPC, CPL, CPA and ROAS are in the
advertiser's terms for both advertisers and staff. Publishers see what they earn (payout,
EPC), never revenue, margin or cost; advertisers never see payout or margin.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from affiliates.roles import Actor
from tracking.models.reports import ROLLUP_AMOUNTS, ROLLUP_COUNTERS

PLACES = Decimal("0.000001")
HUNDRED = Decimal(100)
PERIOD_DAYS = {"day": Decimal(1), "week": Decimal(7), "month": Decimal("30.4375")}

COMMON = (
    "impressions",
    "gross_clicks",
    "unique_clicks",
    "invalid_clicks",
    "paid_clicks",
    "ctr",
    "conversions",
    "conv_pending",
    "conv_approved",
    "conv_rejected",
    "conv_reversed",
    "cvr",
    "leads",
    "sales",
    "sale_amount",
    "aov",
)
PUBLISHER_METRICS = (*COMMON, "payout", "epc")
# Invalid traffic by reason: what the advertiser was not billed for, and staff police.
INVALID_TRAFFIC = (
    "bot_clicks",
    "datacenter_clicks",
    "duplicate_clicks",
    "flood_clicks",
    "invalidated_clicks",
    "invalid_impressions",
)
ADVERTISER_METRICS = (
    *COMMON,
    *INVALID_TRAFFIC,
    "cost",
    "cpc",
    "cpl",
    "cpa",
    "roas",
    "quality",
    "effect_score",
)
STAFF_METRICS = (
    *COMMON,
    *INVALID_TRAFFIC,
    "flagged_clicks",
    "conv_flagged",
    "revenue",
    "payout",
    "margin",
    "epc",
    "cpc",
    "cpl",
    "cpa",
    "roas",
    "quality",
    "effect_score",
)


def metrics_for(actor: Actor) -> tuple[str, ...]:
    if actor.is_staff:
        return STAFF_METRICS
    if actor.is_advertiser:
        return ADVERTISER_METRICS
    return PUBLISHER_METRICS


def ratio(
    numerator: Decimal | int, denominator: Decimal | int, scale: Decimal = Decimal(1)
) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) * scale / Decimal(denominator)).quantize(PLACES, rounding=ROUND_HALF_UP)


def quality(row: Mapping[str, Any]) -> Decimal | None:
    """Share of traffic (clicks and conversions) not flagged by fraud rules."""
    conversions = sum(row[f"conv_{s}"] for s in ("pending", "approved", "rejected", "reversed"))
    total = row["gross_clicks"] + conversions
    if not total:
        return None
    return ratio(total - row["flagged_clicks"] - row["conv_flagged"], total)


def fraud_share(row: Mapping[str, Any]) -> Decimal | None:
    """Percentage of traffic (clicks and conversions) flagged by fraud rules: 100 x (1 - quality)."""
    weight = quality(row)
    return None if weight is None else ((1 - weight) * HUNDRED).quantize(PLACES, rounding=ROUND_HALF_UP)


def effect_score(row: Mapping[str, Any], target: Decimal | None) -> Decimal | None:
    """(conversions / target) x quality / cost per result; None when any part is undefined."""
    conversions = row["conv_pending"] + row["conv_approved"]
    weight = quality(row)
    if not target or weight is None or not conversions or not row["revenue"]:
        return None
    attainment = Decimal(conversions) / target
    cpa: Decimal = row["revenue"] / Decimal(conversions)
    return (attainment * weight / cpa).quantize(PLACES, rounding=ROUND_HALF_UP)


def target_for_range(conversions_per_period: int, period: str, days: int) -> Decimal:
    """A target prorated to the report's length: 300 a month over 7 days is 300 x 7 / 30.4375."""
    return Decimal(conversions_per_period) * Decimal(days) / PERIOD_DAYS[period]


def epc(payout: Decimal, gross_clicks: int) -> Decimal | None:
    """Earnings per click: the publisher's payout (pending and approved) over every click
    counted (gross clicks). The dashboard and the reports both use this one definition."""
    return ratio(payout, gross_clicks)


def derive(row: Mapping[str, Any], target: Decimal | None = None) -> dict[str, Any]:
    """Every metric of one row of summed counters."""
    conversions = row["conv_pending"] + row["conv_approved"]
    revenue, payout = row["revenue"], row["payout"]
    return {
        **{name: row[name] for name in (*ROLLUP_COUNTERS, *ROLLUP_AMOUNTS)},
        "conversions": conversions,
        "ctr": ratio(row["gross_clicks"], row["impressions"], HUNDRED),
        "cvr": ratio(conversions, row["gross_clicks"], HUNDRED),
        "margin": revenue - payout,
        "cost": revenue,
        "epc": epc(payout, row["gross_clicks"]),
        "cpc": ratio(revenue, row["gross_clicks"]),
        "cpl": ratio(row["lead_revenue"], row["leads"]),
        "cpa": ratio(revenue, conversions),
        # No sale amount reported: ROAS is undefined ("n/a"), not 0.00x.
        "roas": ratio(row["sale_amount"], revenue) if row["sales"] else None,
        "aov": ratio(row["sale_amount"], row["sales"]),
        "quality": quality(row),
        "effect_score": effect_score(row, target),
    }


def sum_rows(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    total: dict[str, Any] = {name: 0 for name in ROLLUP_COUNTERS}
    total.update({name: Decimal(0) for name in ROLLUP_AMOUNTS})
    for row in rows:
        for name in total:
            total[name] += row[name]
    return total
