"""Exact conversion caps: count, payout or revenue per UTC day, week or month, offer-wide,
per publisher, or for one publisher.

Each cap period has one CapCounter row. Consuming room is one statement per cap:
``INSERT ... ON CONFLICT DO UPDATE SET used = used + x WHERE used + x <= limit RETURNING used``.
Concurrent postbacks queue on that row's lock and PostgreSQL re-checks the WHERE against the
committed value, so N postbacks against a remaining room of C get exactly C grants. Rows are
taken in cap-id order, so two postbacks touching the same caps cannot deadlock. The caller runs
this in the conversion's transaction (a savepoint), so a refused or duplicate conversion
gives its room back by rolling back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection

from affiliates.models import Cap

_UPSERT = """
INSERT INTO tracking_capcounter (cap_id, period_start, scope_key, used) VALUES (%s, %s, %s, %s)
ON CONFLICT (cap_id, period_start, scope_key)
DO UPDATE SET used = tracking_capcounter.used + excluded.used
WHERE tracking_capcounter.used + excluded.used <= CAST(%s AS NUMERIC)
RETURNING used
"""


def period_start(period: str, at: datetime) -> date:
    day = at.date()  # `at` is UTC-aware (timezone.now())
    if period == Cap.Period.WEEK:
        return day - timedelta(days=day.weekday())  # ISO weeks start on Monday
    if period == Cap.Period.MONTH:
        return day.replace(day=1)
    return day


def caps_applicable(caps: tuple[Cap, ...], publisher_id: int) -> list[tuple[Cap, str]]:
    """(cap, scope key) pairs for this publisher. A cap set for one publisher replaces the
    each-publisher cap of the same metric and period for that publisher."""
    own = {(c.metric, c.period) for c in caps if c.publisher_id == publisher_id}
    out = []
    for cap in caps:
        if cap.publisher_id is not None:
            if cap.publisher_id == publisher_id:
                out.append((cap, f"pub:{publisher_id}"))
        elif cap.scope == Cap.Scope.EACH_PUBLISHER:
            if (cap.metric, cap.period) not in own:
                out.append((cap, f"pub:{publisher_id}"))
        else:
            out.append((cap, "offer"))
    return sorted(out, key=lambda pair: pair[0].id)


@dataclass(frozen=True)
class CapCheck:
    cap: Cap
    scope_key: str
    period_start: date
    amount: Decimal
    used_after: Decimal | None  # None: refused

    @property
    def ok(self) -> bool:
        return self.used_after is not None

    def trace(self) -> dict[str, Any]:
        return {
            "cap_id": self.cap.id,
            "metric": self.cap.metric,
            "period": self.cap.period,
            "scope": self.scope_key,
            "period_start": self.period_start.isoformat(),
            "limit": str(self.cap.limit),
            "amount": str(self.amount),
            "used_after": str(self.used_after) if self.used_after is not None else None,
            "ok": self.ok,
        }


def caps_consume(
    *, caps: list[tuple[Cap, str]], at: datetime, payout: Decimal, revenue: Decimal
) -> list[CapCheck]:
    """Take room from each cap in order; stop at the first that has none (the last check then
    has ``ok`` False). Must run inside a transaction the caller rolls back on refusal."""
    checks: list[CapCheck] = []
    amounts = {Cap.Metric.CONVERSIONS: Decimal(1), Cap.Metric.PAYOUT: payout, Cap.Metric.REVENUE: revenue}
    with connection.cursor() as cursor:
        for cap, scope_key in caps:
            amount = amounts[Cap.Metric(cap.metric)]
            start = period_start(cap.period, at)
            used: Decimal | None = None
            if amount <= cap.limit:
                cursor.execute(_UPSERT, [cap.id, start, scope_key, amount, cap.limit])
                row = cursor.fetchone()
                used = Decimal(str(row[0])) if row else None
            checks.append(CapCheck(cap, scope_key, start, amount, used))
            if used is None:
                break
    return checks
