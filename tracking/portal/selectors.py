"""Reads for the conversion pages, always narrowed by affiliates.roles.scope."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from affiliates.core.db import db_id
from affiliates.core.money import money_round
from affiliates.core.spreadsheet import csv_line
from affiliates.models import Offer
from affiliates.roles import Actor, scope
from tracking.models import Conversion


def offers_for(actor: Actor) -> QuerySet[Offer]:
    """The offers a list or report may filter by: a publisher's joined offers, else those in scope."""
    if actor.is_publisher:
        return Offer.objects.filter(accesses__publisher_id=actor.publisher_id or 0).distinct()
    return scope(Offer.objects.all(), actor, advertiser_path="advertiser_id", publisher_path=None)


def conversions_for(actor: Actor) -> QuerySet[Conversion]:
    qs = Conversion.objects.select_related("offer", "goal", "publisher", "commission")
    return scope(qs, actor, advertiser_path="offer__advertiser_id", publisher_path="publisher_id")


def conversions_filtered(actor: Actor, params: dict[str, Any]) -> QuerySet[Conversion]:
    """Apply the list filters: status, offer, free text (txn id, sub1, conversion id) and dates."""
    qs = conversions_for(actor)
    if params.get("status"):
        qs = qs.filter(status=params["status"])
    if params.get("offer"):
        qs = qs.filter(offer_id=params["offer"])
    if params.get("held"):
        qs = qs.filter(held_for_review=True)
    if q := params.get("q"):
        match = Q(txn_id=q) | Q(sub1=q)
        if (conversion_id := db_id(q)) is not None:
            match |= Q(pk=conversion_id)
        qs = qs.filter(match)
    if start := params.get("start"):
        qs = qs.filter(created_at__gte=_midnight(start))
    if end := params.get("end"):
        qs = qs.filter(created_at__lt=_midnight(end + timedelta(days=1)))
    return qs


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


CSV_COLUMNS = [
    "conversion_id",
    "created_at",
    "offer_id",
    "offer",
    "goal",
    "status",
    "reason",
    "amount",
    "currency",
    "payout",
    "payout_currency",
    "txn_id",
    "sub1",
    "sub2",
    "sub3",
    "sub4",
    "sub5",
    "country",
]


def conversions_csv(qs: QuerySet[Conversion], *, money_field: str) -> Iterator[str]:
    """Stream rows as CSV; ``money_field`` is payout (publisher) or revenue (advertiser). Offer
    names and sub ids come from other tenants and from traffic: csv_line neutralises formulas."""
    yield csv_line(c if c != "payout" else money_field for c in CSV_COLUMNS)
    for c in qs.iterator(chunk_size=2000):
        commission = c.commission if hasattr(c, "commission") else None
        yield csv_line(
            [
                c.pk,
                c.created_at.isoformat(),
                c.offer_id or "",
                c.offer.name if c.offer else "",
                c.goal.code if c.goal else "",
                c.status,
                c.reason,
                money_round(c.amount, c.currency or "USD") if c.amount is not None else "",
                c.currency,
                money_round(getattr(commission, money_field), commission.currency) if commission else "",
                commission.currency if commission else "",
                *(c.txn_id, c.sub1, c.sub2, c.sub3, c.sub4, c.sub5),
                c.country,
            ]
        )
