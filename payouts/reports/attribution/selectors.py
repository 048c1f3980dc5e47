"""Reads of the journey tables (filled by payouts.journeys): the attribution comparison and
the participation report. They read the daily rollups of the computed touches
(tracking_attributionday, tracking_participationday: tracking.journeys.rollup), never raw
clicks; ``from_touches=True`` sums the touches themselves instead, the reference the rollups
are checked against (same numbers, much slower).

What each role sees (the same rule as every report):
- staff: every advertiser's touches; credited revenue and payout;
- an advertiser: the touches of its offers; credited revenue (its cost), never payout;
- a publisher: its own touches only (credited conversions and payout), never revenue, never
  another publisher's rows.

View-through journeys are kept apart: ``scope="click"`` (the default) leaves them out,
``scope="view_through"`` shows only them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Model, Q, QuerySet, Sum
from django.utils import timezone
from rest_framework import status

from affiliates.core.money import money_round
from affiliates.roles import Actor, scope
from payouts.reports.dimensions import ReportError
from tracking.models import AttributionDay, JourneyRun, ParticipationDay, Touch
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


def attribution_compare(
    *, actor: Actor, filters: Filters, by: str = "publisher", from_touches: bool = False
) -> list[dict[str, Any]]:
    """Per row (publisher, or publisher and sub id, source or creative) and currency: each
    model's credited conversions and money, and its delta against last click (the paid model)."""
    role = _role(actor)
    money = MONEY[role]
    keys = GROUPS[by]
    sums: dict[str, Any] = {}
    for model in MODELS:
        sums[f"{model}__n"] = Sum(model)  # a name of its own: F(model) below is the column
        for amount in money:
            sums[f"{model}__{amount}"] = (
                _credited(model, amount) if from_touches else Sum(f"{model}_{amount}")
            )
    # By publisher alone, the per-offer rows are enough (one currency per offer) and far fewer.
    table = Touch if from_touches else ParticipationDay if by == "publisher" else AttributionDay
    rows = _rows(table, actor, filters).values(*keys, "currency").annotate(**sums).order_by(*keys, "currency")
    out = []
    for row in rows:
        models: dict[str, dict[str, Any]] = {}
        for model in MODELS:
            cell: dict[str, Any] = {"conversions": (row[f"{model}__n"] or Decimal(0)).quantize(CONVERSIONS)}
            for amount in money:
                cell[amount] = money_round(row[f"{model}__{amount}"] or Decimal(0), row["currency"])
            models[model] = cell
        base = models["last_click"]
        for model, cell in models.items():
            cell["delta"] = (
                {k: v - base[k] for k, v in cell.items() if k != "delta"} if model != "last_click" else {}
            )
        out.append(
            {
                "publisher": row["publisher_id"],
                **({by: row[by]} if by != "publisher" else {}),
                "currency": row["currency"],
                "models": models,
            }
        )
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
    table = Touch if from_touches else ParticipationDay
    rows = (
        _rows(table, actor, filters)
        .values("publisher_id")
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
