"""Reads of the customer-value tables (filled by services.customer_value_refresh): cohorts,
the new/returning mix, LTV:CAC, and ``customer_value`` for the effect score.

What each role sees (the same rule as every report, payouts/reports/metrics.py):
- staff: everything: revenue, payout, margin, sale amounts;
- an advertiser: its own customers; what its customers spent (sale amount) and what it paid
  (cost, the network's revenue), never payout or margin. Its LTV is sale amount per customer
  and its CAC the cost of the customers' first orders per customer;
- a publisher: only the customers it owns (its own first conversions) and its own orders'
  mix; customers, orders and payout, never revenue, sale amounts or LTV:CAC.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import F, QuerySet, Sum
from rest_framework import status

from affiliates.core.money import MoneySum
from affiliates.models import Offer, Publisher
from affiliates.roles import Actor, scope
from payouts.models import CohortRollup, CustomerMixRollup, CustomerValueRun
from payouts.models.customers import HORIZONS
from payouts.reports.dimensions import ReportError
from payouts.reports.metrics import HUNDRED, PLACES, ratio

MAX_MONTHS = 36
MAX_DAYS = 400
AMOUNTS = ("revenue", "payout", "sale_amount", "acquisition_revenue", "acquisition_payout")
COHORT_METRICS = {
    "staff": ("orders", "revenue", "payout", "margin", "sale_amount"),
    "advertiser": ("orders", "sale_amount", "cost"),
    "publisher": ("orders", "payout"),
}


def _role(actor: Actor) -> str:
    if actor.is_staff:
        return "staff"
    if actor.is_advertiser and actor.advertiser_id is not None:
        return "advertiser"
    if actor.is_publisher and actor.publisher_id is not None:
        return "publisher"
    raise ReportError(
        "Customer reports need a staff, advertiser or publisher account.",
        code="forbidden",
        status_code=status.HTTP_403_FORBIDDEN,
    )


def _scoped(
    qs: QuerySet[Any], actor: Actor, *, advertiser: int | None, publisher: int | None, source: str | None
) -> QuerySet[Any]:
    """The actor's own rows, narrowed by the filters; a filter naming another tenant gives none."""
    _role(actor)
    qs = scope(qs, actor, advertiser_path="advertiser_id", publisher_path="publisher_id")
    if advertiser is not None:
        qs = qs.filter(advertiser_id=advertiser)
    if publisher is not None:
        qs = qs.filter(publisher_id=publisher)
    if source is not None:
        qs = qs.filter(source_id=source)
    return qs


def as_of() -> datetime | None:
    """When the tables were last computed (conversions before this instant are counted)."""
    return CustomerValueRun.objects.values_list("as_of", flat=True).first()


def months_check(start: date, end: date) -> tuple[date, date]:
    start, end = start.replace(day=1), end.replace(day=1)
    if end < start:
        raise ReportError("end is before start.", code="bad_range")
    if (end.year - start.year) * 12 + end.month - start.month >= MAX_MONTHS:
        raise ReportError(f"A cohort table spans at most {MAX_MONTHS} months.", code="range_too_long")
    return start, end


def _month_end(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def exact(amount: Decimal | int | None) -> Decimal:
    """A summed amount at the six places amounts are stored with (SQLite sums in floating point)."""
    return Decimal(amount or 0).quantize(PLACES, rounding=ROUND_HALF_UP)


def _horizon_cell(role: str, sums: Mapping[str, Any], complete: bool) -> dict[str, Any]:
    revenue, payout = exact(sums["revenue"]), exact(sums["payout"])
    every = {
        "orders": sums["orders"],
        "revenue": revenue,
        "payout": payout,
        "margin": revenue - payout,
        "sale_amount": exact(sums["sale_amount"]),
        "cost": revenue,
    }
    return {**{k: every[k] for k in COHORT_METRICS[role]}, "complete": complete}


@dataclass(frozen=True)
class CohortTable:
    role: str
    metrics: tuple[str, ...]
    rows: list[dict[str, Any]]
    as_of: datetime | None


def cohort_table(
    *,
    actor: Actor,
    start: date,
    end: date,
    advertiser: int | None = None,
    publisher: int | None = None,
    source: str | None = None,
) -> CohortTable:
    """One row per cohort month (and currency): its customers and, per horizon (30/60/90/180
    days after each customer's first conversion, cumulated), orders and money. ``complete`` is
    false while the month's youngest customer has not had the whole horizon yet."""
    role = _role(actor)
    start, end = months_check(start, end)
    qs = _scoped(
        CohortRollup.objects.filter(cohort_month__gte=start, cohort_month__lte=end),
        actor,
        advertiser=advertiser,
        publisher=publisher,
        source=source,
    )
    sums = (
        qs.values("cohort_month", "currency", "horizon_days")
        .annotate(customers=Sum("customers"), orders=Sum("orders"), **{a: MoneySum(a) for a in AMOUNTS})
        .order_by("cohort_month", "currency", "horizon_days")
    )
    computed = as_of()
    rows: dict[tuple[date, str], dict[str, Any]] = {}
    for s in sums:
        key = (s["cohort_month"], s["currency"])
        row = rows.setdefault(
            key, {"cohort_month": key[0], "currency": key[1], "customers": 0, "horizons": {}}
        )
        horizon = s["horizon_days"]
        row["customers"] = max(row["customers"], s["customers"])
        matured = computed is not None and _month_end(key[0]) + timedelta(days=horizon) <= computed.date()
        row["horizons"][str(horizon)] = _horizon_cell(role, s, matured)
    return CohortTable(role, COHORT_METRICS[role], list(rows.values()), computed)


def days_check(start: date, end: date) -> None:
    if end < start:
        raise ReportError("end is before start.", code="bad_range")
    if (end - start).days >= MAX_DAYS:
        raise ReportError(f"A customer report spans at most {MAX_DAYS} days.", code="range_too_long")


def _names(actor: Actor, ids: Iterable[int]) -> dict[int, str]:
    """Publisher names beside ids; advertisers see publisher ids only, as in every report."""
    if actor.is_advertiser:
        return {}
    return dict(Publisher.objects.filter(pk__in=set(ids)).values_list("pk", "name"))


def customer_mix(
    *,
    actor: Actor,
    start: date,
    end: date,
    by: str = "publisher",
    advertiser: int | None = None,
    publisher: int | None = None,
) -> list[dict[str, Any]]:
    """New vs returning orders per publisher (``by="source"``: per publisher and source) over
    UTC days ``start``..``end``; ``new_share`` is the percentage of new."""
    _role(actor)
    if by not in ("publisher", "source"):
        raise ReportError("by is publisher or source.", code="bad_group_by")
    days_check(start, end)
    qs = _scoped(
        CustomerMixRollup.objects.filter(day__gte=start, day__lte=end),
        actor,
        advertiser=advertiser,
        publisher=publisher,
        source=None,
    )
    keys = ("publisher_id", "source_id") if by == "source" else ("publisher_id",)
    sums = qs.values(*keys).annotate(new=Sum("new_orders"), returning=Sum("returning_orders")).order_by(*keys)
    names = _names(actor, (s["publisher_id"] for s in sums))
    return [
        {
            "publisher": s["publisher_id"],
            **({} if actor.is_advertiser else {"publisher_name": names.get(s["publisher_id"], "")}),
            **({"source": s["source_id"]} if by == "source" else {}),
            "new_orders": s["new"],
            "returning_orders": s["returning"],
            "new_share": ratio(s["new"], s["new"] + s["returning"], HUNDRED),
        }
        for s in sums
    ]


def ltv_cac(
    *,
    actor: Actor,
    start: date,
    end: date,
    horizon: int = 90,
    by: str = "publisher",
    advertiser: int | None = None,
    publisher: int | None = None,
) -> list[dict[str, Any]]:
    """LTV, CAC and LTV:CAC per publisher (``by="source"``: and source) and currency, over the
    cohorts of months ``start``..``end`` at ``horizon`` days. Staff: LTV is revenue per customer,
    CAC the payout of the customers' first orders per customer; an advertiser: LTV is what its
    customers spent (sale amount) per customer, CAC what their first orders cost it."""
    role = _role(actor)
    if role == "publisher":
        raise ReportError(
            "LTV:CAC is for advertisers and staff.", code="forbidden", status_code=status.HTTP_403_FORBIDDEN
        )
    if horizon not in HORIZONS:
        raise ReportError("horizon is 30, 60, 90 or 180.", code="bad_horizon")
    if by not in ("publisher", "source"):
        raise ReportError("by is publisher or source.", code="bad_group_by")
    start, end = months_check(start, end)
    qs = _scoped(
        CohortRollup.objects.filter(cohort_month__gte=start, cohort_month__lte=end, horizon_days=horizon),
        actor,
        advertiser=advertiser,
        publisher=publisher,
        source=None,
    )
    keys = ("publisher_id", "source_id", "currency") if by == "source" else ("publisher_id", "currency")
    sums = qs.values(*keys).annotate(customers=Sum("customers"), **{a: MoneySum(a) for a in AMOUNTS})
    names = _names(actor, (s["publisher_id"] for s in sums))
    value, cost = (
        ("revenue", "acquisition_payout") if role == "staff" else ("sale_amount", "acquisition_revenue")
    )
    out = []
    for s in sums.order_by(*keys):
        ltv, cac = ratio(s[value], s["customers"]), ratio(s[cost], s["customers"])
        out.append(
            {
                "publisher": s["publisher_id"],
                **({} if actor.is_advertiser else {"publisher_name": names.get(s["publisher_id"], "")}),
                **({"source": s["source_id"]} if by == "source" else {}),
                "currency": s["currency"],
                "customers": s["customers"],
                "ltv": ltv,
                "cac": cac,
                "ltv_cac": ratio(ltv, cac) if ltv is not None and cac is not None else None,
            }
        )
    return out


def customer_value(
    *,
    advertiser_id: int,
    horizon_days: int,
    start: date,
    end: date,
    publisher_ids: Iterable[int] | None = None,
) -> dict[int, Decimal]:
    """Per publisher: how many first orders' worth its customers (cohorts of months ``start``..
    ``end``) brought within ``horizon_days``: revenue over that horizon / revenue of the first
    orders. 1 for ``horizon_days=0`` (first-order value). The effect score multiplies by it when
    the advertiser chose a value horizon (Advertiser.value_horizon_days)."""
    qs = CohortRollup.objects.filter(
        advertiser_id=advertiser_id,
        cohort_month__gte=start.replace(day=1),
        cohort_month__lte=end.replace(day=1),
        horizon_days=horizon_days or min(HORIZONS),
    )
    if publisher_ids is not None:
        qs = qs.filter(publisher_id__in=list(publisher_ids))
    sums = qs.values("publisher_id").annotate(
        value=MoneySum("revenue"), first=MoneySum("acquisition_revenue")
    )
    out: dict[int, Decimal] = {}
    for s in sums:
        multiple = ratio(s["value"], s["first"]) if horizon_days else Decimal(1)
        if multiple is not None:
            out[s["publisher_id"]] = multiple
    return out


def offer_advertisers(offer_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """offer id -> (advertiser id, the advertiser's value horizon)."""
    rows = Offer.objects.filter(pk__in=set(offer_ids)).values_list(
        "pk", "advertiser_id", F("advertiser__value_horizon_days")
    )
    return {pk: (adv, horizon) for pk, adv, horizon in rows}
