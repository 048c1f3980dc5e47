"""Reads of the journey tables (filled by payouts.journeys): the attribution comparison and
the participation report. They read the daily rollups of the computed touches
(tracking.journeys.rollup), never raw clicks: the cube without the offer
(tracking_attributioncube), or, for one offer, the per-offer rollups (tracking_attributionday,
tracking_participationday). ``from_touches=True`` sums the touches themselves instead, the
reference the rollups are checked against (same numbers, much slower).

What each role sees (the same rule as every report):
- staff: every advertiser's touches; credited revenue and payout;
- an advertiser: the touches of its offers; credited revenue (its cost), never payout;
- a publisher: its own touches only (credited conversions and payout), never revenue, never
  another publisher's rows.

View-through journeys are kept apart: ``scope="click"`` (the default) leaves them out,
``scope="view_through"`` shows only them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Model, Q, QuerySet, Sum
from django.utils import timezone
from rest_framework import status

from affiliates.core.collector import collector_paused
from affiliates.core.db import db_rows
from affiliates.core.money import money_rounder
from affiliates.roles import Actor, scope
from payouts.reports.dimensions import ReportError
from tracking.models import AttributionCube, AttributionDay, JourneyRun, ParticipationDay, Touch
from tracking.models.journeys import MODELS, TouchRole

MAX_DAYS = 400
GROUPS = {
    "publisher": ("publisher_id",),
    "sub1": ("publisher_id", "sub1"),
    "source": ("publisher_id", "source"),
    "creative": ("publisher_id", "creative"),
}
SCOPES = ("click", "view_through")
CONVERSIONS = Decimal("0.01")
MONEY = {"staff": ("revenue", "payout"), "advertiser": ("revenue",), "publisher": ("payout",)}


def _role(actor: Actor) -> str:
    if actor.is_staff:
        return "staff"
    if actor.is_advertiser and actor.advertiser_id is not None:
        return "advertiser"
    if actor.is_publisher and actor.publisher_id is not None:
        return "publisher"
    raise ReportError(
        "Attribution reports need a staff, advertiser or publisher account.",
        code="forbidden",
        status_code=status.HTTP_403_FORBIDDEN,
    )


@dataclass(frozen=True)
class Filters:
    start: date
    end: date
    scope: str = "click"
    advertiser: int | None = None
    offer: int | None = None
    publisher: int | None = None


def days_check(start: date, end: date) -> None:
    if end < start:
        raise ReportError("end is before start.", code="out_of_range")
    if (end - start).days >= MAX_DAYS:
        raise ReportError(f"At most {MAX_DAYS} days from start to end.", code="out_of_range")


def _rows(model: type[Model], actor: Actor, f: Filters) -> QuerySet[Any]:
    """``model``'s rows (touches or a rollup: the same keys) in the filters and the actor's scope."""
    days_check(f.start, f.end)
    _role(actor)
    qs = model._default_manager.filter(
        day__gte=f.start, day__lte=f.end, view_through=f.scope == "view_through"
    )
    qs = scope(qs, actor, advertiser_path="advertiser_id", publisher_path="publisher_id")
    if f.advertiser is not None:
        qs = qs.filter(advertiser_id=f.advertiser)
    if f.offer is not None:
        qs = qs.filter(offer_id=f.offer)
    if f.publisher is not None:
        qs = qs.filter(publisher_id=f.publisher)
    return qs


def as_of() -> datetime | None:
    return JourneyRun.objects.values_list("as_of", flat=True).first()


def _credited(model: str, amount: str) -> Sum:
    return Sum(
        ExpressionWrapper(F(model) * F(amount), output_field=DecimalField(max_digits=30, decimal_places=16))
    )


def _grouped(
    actor: Actor, filters: Filters, by: str, from_touches: bool
) -> tuple[QuerySet[Any], tuple[str, ...]]:
    """The rows to group and the columns to group them by: touches, the per-offer rollups when
    one offer is asked for, else the cube (by publisher alone: its rows without a dimension,
    which hold the participation counts too)."""
    if from_touches:
        return _rows(Touch, actor, filters), GROUPS[by]
    if filters.offer is not None:
        table = ParticipationDay if by == "publisher" else AttributionDay
        return _rows(table, actor, filters), GROUPS[by]
    rows = _rows(AttributionCube, actor, filters).filter(dimension="" if by == "publisher" else by)
    return rows, ("publisher_id",) if by == "publisher" else ("publisher_id", "value")


def attribution_compare(
    *, actor: Actor, filters: Filters, by: str = "publisher", from_touches: bool = False
) -> list[dict[str, Any]]:
    """Per row (publisher, or publisher and sub id, source or creative) and currency: each
    model's credited conversions and money, and its delta against last click (the paid model)."""
    role = _role(actor)
    money = MONEY[role]
    qs, keys = _grouped(actor, filters, by, from_touches)
    sums: dict[str, Any] = {}
    for model in MODELS:
        sums[f"{model}__n"] = Sum(model)  # a name of its own: F(model) below is the column
        for amount in money:
            sums[f"{model}__{amount}"] = (
                _credited(model, amount) if from_touches else Sum(f"{model}_{amount}")
            )
    with collector_paused():
        return _compare_rows(qs, keys, sums, money, by)


def _compare_rows(
    qs: QuerySet[Any], keys: tuple[str, ...], sums: dict[str, Any], money: tuple[str, ...], by: str
) -> list[dict[str, Any]]:
    """The report's rows: sorted here, not by the database (its grouping then needs no sort, and
    the order is the same, byte-wise, whatever the database's collation)."""
    width = len(keys)
    grouped = qs.values(*keys, "currency").annotate(**sums).order_by()
    rows = sorted(db_rows(grouped.values_list(*keys, "currency", *sums)), key=lambda row: row[: width + 1])
    # A report has thousands of rows of six models: the loop reads tuples by position, rounds
    # each cell once (a currency's money_rounder, made once) and builds each model's cell and
    # its delta against last click (the first model, the paid one) without inner functions.
    assert MODELS[0] == "last_click"  # the base is set before the other models need it
    conversions, zero = CONVERSIONS, Decimal(0)
    quantize = Decimal.quantize
    rounders: dict[str, Callable[[Decimal], Decimal]] = {}
    columns = [(model, width + 1 + n * (1 + len(money))) for n, model in enumerate(MODELS)]
    amounts = tuple(enumerate(money, 1))
    out = []
    for row in rows:
        currency = row[width]
        rounder = rounders.get(currency)
        if rounder is None:
            rounder = rounders[currency] = money_rounder(currency)
        models: dict[str, dict[str, Any]] = {}
        base: dict[str, Any] = {}
        for model, at in columns:
            cell: dict[str, Any] = {"conversions": quantize(row[at] or zero, conversions)}
            for i, amount in amounts:
                cell[amount] = rounder(row[at + i] or zero)
            if model == "last_click":
                base = cell
                cell["delta"] = {}
            else:
                delta = {}
                for name, value in cell.items():
                    delta[name] = value - base[name]
                cell["delta"] = delta
            models[model] = cell
        entry: dict[str, Any] = {"publisher": row[0]}
        if width > 1:
            entry[by] = row[1]
        entry["currency"] = currency
        entry["models"] = models
        out.append(entry)
    return out


def _participation_sums(model: str, from_touches: bool) -> dict[str, Any]:
    if not from_touches:  # a journey has one day and offer: the days' distinct counts add up
        return {n: Sum(n) for n in ("touched", "introducer", "influencer", "closer")} | {"credit": Sum(model)}
    return {
        "touched": Count("journey_id", distinct=True),
        "introducer": Count("journey_id", filter=Q(role=TouchRole.INTRODUCER), distinct=True),
        "influencer": Count("journey_id", filter=Q(role=TouchRole.INFLUENCER), distinct=True),
        "closer": Count("journey_id", filter=Q(role=TouchRole.CLOSER), distinct=True),
        "credit": Sum(model),
    }


def participation(
    *, actor: Actor, filters: Filters, model: str = "linear", from_touches: bool = False
) -> list[dict[str, Any]]:
    """Per publisher: conversions it touched, how often as introducer, influencer and closer,
    and its share of credit (its credited conversions under ``model`` / conversions touched)."""
    qs, _keys = _grouped(actor, filters, "publisher", from_touches)  # the comparison's rows by publisher
    rows = (
        qs.values("publisher_id")
        .annotate(**_participation_sums(model, from_touches))
        .order_by("publisher_id")
    )
    out = []
    for row in rows:
        credit = (row["credit"] or Decimal(0)).quantize(CONVERSIONS)
        out.append(
            {
                "publisher": row["publisher_id"],
                "conversions_touched": row["touched"],
                "introducer": row["introducer"],
                "influencer": row["influencer"],
                "closer": row["closer"],
                "credited_conversions": credit,
                "credit_share": (credit / row["touched"] * 100).quantize(CONVERSIONS)
                if row["touched"]
                else None,
            }
        )
    return out


def default_range(end: date | None = None) -> tuple[date, date]:
    """The last 30 days."""
    end = end or timezone.now().date()
    return end - timedelta(days=29), end
