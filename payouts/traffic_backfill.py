"""Split the CPC/CPM daily lines written before shares existed over their traffic (reports).

Migration payouts 0019 of the old migration history (payouts 0001_initial replaces it) gave every
daily line already written one share without attributes, so report totals kept equalling the
ledger, but a report grouped by sub1, country or device put that money on a "(none)" row.
``shares_backfill`` (``manage.py traffic_shares_backfill``) splits each such line over the
country, device and sub1-sub5 of the valid traffic it paid, exactly as a recount does
(payouts.traffic_shares), and marks the lines' days for the report rollups.

Only the shares change: the line, its amount and the ledger stay as they are. A line is split
only when today's count of its valid traffic is the line's quantity (what it paid is what is
counted); one whose traffic no longer matches (raw rows deleted, a goal that no longer pays this
kind, a closed line never recounted) keeps its one share and is counted as ``left``. Running it
again finds nothing to do.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q

from payouts.models import Commission, CommissionShare
from payouts.traffic import _day_lock, _goals_for, _lines_price, clicks_valid, impressions_valid
from payouts.traffic_shares import ATTRIBUTES, shares_write
from tracking.models import Click, Impression
from tracking.models.reports import ReportDirtyHour


@dataclass
class Backfill:
    split: int = 0  # lines now split over their traffic
    left: int = 0  # lines whose traffic no longer matches them: one share, as before
    days: list[date] = field(default_factory=list)


def lines_unsplit(*, day_from: date | None = None, day_to: date | None = None) -> Any:
    """CPC/CPM lines with one share and no attribute on it: the migration's, or traffic that
    really carried none (splitting that again changes nothing)."""
    blank = CommissionShare.objects.filter(commission=OuterRef("pk"), **{a: "" for a in ATTRIBUTES})
    qs = (
        Commission.objects.filter(kind__in=(Commission.Kind.CPC, Commission.Kind.CPM), quantity__gt=0)
        .annotate(shares_n=Count("shares"))
        .filter(shares_n=1)
        .filter(Exists(blank))
    )
    if day_from:
        qs = qs.filter(day__gte=day_from)
    if day_to:
        qs = qs.filter(day__lte=day_to)
    return qs


def shares_backfill(*, day_from: date | None = None, day_to: date | None = None) -> Backfill:
    """Split every unsplit daily line in [day_from, day_to] (default: all); see the module."""
    todo: dict[tuple[str, date], list[tuple[int, int, int, int, Any, Any, int]]] = defaultdict(list)
    rows = lines_unsplit(day_from=day_from, day_to=day_to).values_list(
        "kind", "day", "pk", "offer_id", "publisher_id", "goal_id", "revenue", "payout", "quantity"
    )
    for kind, day, *line in rows.order_by("day", "kind"):
        todo[(kind, day)].append(tuple(line))
    result = Backfill()
    for (kind, day), lines in todo.items():
        split = _day_split(kind, day, lines)
        result.split += split
        result.left += len(lines) - split
        if split:
            result.days.append(day)
    if result.days:
        # Shares are not watched by the report triggers (commissions are): mark the days' first
        # hour, where a daily line sits, so the next refresh re-aggregates them.
        ReportDirtyHour.objects.bulk_create(
            ReportDirtyHour(hour=datetime.combine(d, time.min, tzinfo=UTC)) for d in sorted(set(result.days))
        )
    return result


def _day_split(kind: str, day: date, lines: list[Any]) -> int:
    goals = _goals_for(kind)
    start = datetime.combine(day, time.min, tzinfo=UTC)
    with transaction.atomic():
        _day_lock(kind, day)  # the same lock as a recount: it cannot rewrite these shares meanwhile
        pairs = {(o, p) for _, o, p, goal, *_ in lines if o in goals and goals[o].id == goal}
        if not pairs:
            return 0
        window = Q(created_at__gte=start, created_at__lt=start + timedelta(days=1))
        valid = clicks_valid if kind == Commission.Kind.CPC else impressions_valid
        model = Click if kind == Commission.Kind.CPC else Impression
        qs = valid(model.objects.filter(window, offer_id__in={o for o, _ in pairs}))
        detail = qs.filter(publisher_id__in={p for _, p in pairs}).values_list(
            "offer_id", "publisher_id", *ATTRIBUTES
        )
        counted, parts = _lines_price(
            kind, goals, [r for r in detail.annotate(n=Count("id")).order_by() if r[:2] in pairs]
        )
        written = [
            (pk, revenue, payout, (o, p))
            for pk, o, p, _, revenue, payout, quantity in lines
            if (o, p) in pairs and counted.get((o, p), (0,))[0] == quantity
        ]
        shares_write(written, parts)
    return len(written)
