"""Reads for the staff console's overview and detail pages that need clicks and conversions
only: counts per UTC day up to this time of day, per-offer movers, caps near their limit (click
caps included) and the
click consumer's backlog. The money beside them is payouts.portal's."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import redis
from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from affiliates.models import Cap, Publisher
from tracking.clickpath import redis_conn
from tracking.clickpath.consumer import GROUP
from tracking.clickpath.store import click_caps_used, stream_key
from tracking.conversions.caps import period_start
from tracking.models import CapCounter, Click, Conversion
from tracking.portal.traffic import COUNTED

#: A cap is "near" its limit from this share of it on (the notifications warn at the same 80 %).
NEAR = Decimal("0.8")


def day_start(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=timezone.get_current_timezone())


def so_far_filter(now: datetime, days: int) -> Q:
    """Rows of today and the ``days`` days before, each up to ``now``'s time of day (UTC): the
    same part of every day, so this morning compares with yesterday morning, not all yesterday."""
    first = day_start(now.date() - timedelta(days=days))
    return Q(created_at__gte=first, created_at__lt=now, created_at__time__lt=now.time())


def counts_per_day(
    *, now: datetime, days: int, where: Q | None = None, by: str | None = None
) -> dict[tuple[Any, date], tuple[int, int]]:
    """(key, day) -> (clicks, counted conversions) for today and the ``days`` days before, each
    day up to ``now``'s time of day. ``key`` is the value of the ``by`` column (offer_id...), or
    None for the total."""
    window = so_far_filter(now, days) & (where or Q())
    out: dict[tuple[Any, date], list[int]] = defaultdict(lambda: [0, 0])
    for i, qs in enumerate((Click.objects.all(), Conversion.objects.filter(status__in=COUNTED))):
        fields = ["d", by] if by else ["d"]
        rows = qs.filter(window).annotate(d=TruncDate("created_at")).values(*fields)
        for row in rows.annotate(n=Count("pk")).order_by():
            out[(row[by] if by else None, row["d"])][i] = row["n"]
    return {k: (v[0], v[1]) for k, v in out.items()}


def window_counts(*, start: datetime, end: datetime, where: Q) -> tuple[int, int]:
    """Clicks and counted conversions in [start, end) matching ``where`` (tenant or offer)."""
    clicks = Click.objects.filter(where, created_at__gte=start, created_at__lt=end).count()
    conversions = Conversion.objects.filter(
        where, created_at__gte=start, created_at__lt=end, status__in=COUNTED
    ).count()
    return clicks, conversions


@dataclass(frozen=True)
class CapUse:
    cap: Cap
    used: Decimal
    scope_key: str
    #: The publisher an each-publisher cap's row counts ("" for the whole offer).
    who: str = ""

    @property
    def share(self) -> float:
        return float(self.used / self.cap.limit) if self.cap.limit else 1.0


def caps_near_limit(*, now: datetime | None = None, where: Q | None = None) -> list[CapUse]:
    """Caps whose current period has used 80 % or more, fullest first: conversion, payout and
    revenue caps from their counters (CapCounter), click caps from where the click path counts
    them (tracking.clickpath.store.click_caps_used: Redis, else the clicks table). ``where``
    narrows the caps (``offer_id=``, ``offer__advertiser_id=``)."""
    now = now or timezone.now()
    caps = Cap.objects.filter(where or Q(), limit__gt=0).select_related("offer", "publisher")
    current = Q()
    for period in Cap.Period.values:
        current |= Q(cap__period=period, period_start=period_start(period, now))
    rows: QuerySet[CapCounter] = CapCounter.objects.filter(
        current, cap__in=caps.exclude(metric=Cap.Metric.CLICKS), used__gte=F("cap__limit") * NEAR
    ).select_related("cap", "cap__offer", "cap__publisher")
    found = [(r.cap, r.scope_key, r.used) for r in rows]
    clicks = list(caps.filter(metric=Cap.Metric.CLICKS))
    found += [(cap, key, Decimal(n)) for cap, key, n in click_caps_used(clicks, now) if n >= cap.limit * NEAR]
    names = _publisher_names(key for _, key, _ in found)
    uses = [CapUse(cap=cap, used=used, scope_key=key, who=names.get(key, "")) for cap, key, used in found]
    return sorted(uses, key=lambda u: -u.share)


def _publisher_names(keys: Any) -> dict[str, str]:
    ids = {int(k[4:]) for k in keys if k.startswith("pub:")}
    return {f"pub:{pk}": name for pk, name in Publisher.objects.filter(pk__in=ids).values_list("pk", "name")}


@dataclass(frozen=True)
class Backlog:
    """The click stream's state: clicks waiting to be written to the database."""

    configured: bool
    reachable: bool = True
    waiting: int | None = None
    oldest_seconds: float | None = None


def click_backlog() -> Backlog:
    """How far the click consumer is behind (the /healthz numbers, for a person)."""
    client = redis_conn.client()
    if client is None:
        return Backlog(configured=False)
    try:
        groups: Any = client.xinfo_groups(stream_key())
        group = next((g for g in groups if g["name"] in (GROUP, GROUP.encode())), None)
        oldest: Any = client.xrange(stream_key(), count=1)
    except redis.ResponseError:  # no stream yet: nothing was ever waiting
        return Backlog(configured=True, waiting=0, oldest_seconds=0.0)
    except redis.RedisError:
        return Backlog(configured=True, reachable=False)
    age = time.time() - int(oldest[0][0].split(b"-")[0]) / 1000 if oldest else 0.0
    lag = group.get("lag") if group is not None else None
    return Backlog(configured=True, waiting=lag, oldest_seconds=round(max(age, 0.0), 1))


def recent_conversions(*, where: Q, limit: int = 8) -> QuerySet[Conversion]:
    """The latest conversions matching ``where``, for a detail page's recent activity."""
    qs = Conversion.objects.filter(where).select_related("offer", "publisher", "goal")
    return qs.order_by("-created_at", "-pk")[:limit]
