"""CPC and CPM earnings as daily commission lines, one per offer x publisher x goal x UTC day.

Why daily lines, not a commission per click: a busy network records hundreds of millions of
clicks; a commission row and a three-entry ledger transaction per click would make the ledger
the largest table in the system, for money that is only ever reported, approved and paid per
day. A line is recomputed from the clicks as the day fills; when it grows, the increase is
posted as a new COMMISSION_INCREASE transaction (the ledger stays append-only), and the line's
amount is always round(count x price) of the whole day, rounded once, so many small increases
never accumulate rounding drift.

CPC pays **unique** redirected clicks (``reason == ""`` and ``is_unique``), as Everflow and
most networks do by default: a refresh or a bot hammering the link must not multiply the
advertiser's bill. CPM pays every recorded impression, per 1000.

A line never shrinks from a recount (clicks are append-only; an old day may lose rows to
retention); corrections go through the adjustment flow. Custom payouts with country
conditions apply per click: the day's amount is the sum over countries of count x price.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from affiliates.core.db import db_advisory_lock
from affiliates.core.money import money_round
from affiliates.models import CustomPayout, Goal
from affiliates.pricing import price_pick
from payouts import events
from payouts.bulk import insert_rows
from payouts.models import Commission, CommissionStatus, Transaction
from payouts.postings import (
    Change,
    CommissionRef,
    changes_apply,
    commissions_lock,
    ledger_post_many,
    posting_for,
)
from payouts.reconcile import _COMMISSION_COLUMNS
from tracking.models import Click, Impression

THOUSAND = Decimal(1000)


def traffic_reconcile(*, day_from: date, day_to: date, now: datetime | None = None) -> dict[str, int]:
    """Create or grow the CPC and CPM lines of every UTC day in [day_from, day_to]; ``now``
    stamps them and their ledger entries (default: the current time)."""
    stats: dict[str, int] = defaultdict(int)
    day = day_from
    while day <= day_to:
        for kind in (Goal.PayoutType.CPC, Goal.PayoutType.CPM):
            created, grown = day_lines_reconcile(kind=kind, day=day, now=now)
            stats["created"] += created
            stats["grown"] += grown
        day += timedelta(days=1)
    return dict(stats)


def _goals_for(kind: str) -> dict[int, Goal]:
    """One paying goal of this type per offer: the default goal if it is one, else the first."""
    chosen: dict[int, Goal] = {}
    for goal in Goal.objects.filter(payout_type=kind).select_related("offer").order_by("-is_default", "id"):
        chosen.setdefault(goal.offer_id, goal)
    return chosen


def _day_lock(kind: str, day: date) -> None:
    # One recount of a (kind, day) at a time, so a slower recount that read fewer clicks can
    # never follow a faster one. SQLite's single writer already serialises us.
    db_advisory_lock(keys=(zlib.crc32(f"traffic:{kind}:{day}".encode()),))


def day_lines_reconcile(*, kind: str, day: date, now: datetime | None = None) -> tuple[int, int]:
    goals = _goals_for(kind)
    if not goals:
        return 0, 0
    start = datetime.combine(day, time.min, tzinfo=UTC)
    now = now or timezone.now()
    with transaction.atomic():
        _day_lock(kind, day)
        window: dict[str, Any] = {
            "offer_id__in": goals,
            "created_at__gte": start,
            "created_at__lt": start + timedelta(days=1),
        }
        qs: QuerySet[Any]
        if kind == Goal.PayoutType.CPC:
            qs = Click.objects.filter(reason="", is_unique=True, **window)
        else:
            qs = Impression.objects.filter(**window)
        counts = qs.values_list("offer_id", "publisher_id", "country").annotate(n=Count("id")).order_by()
        lines = _lines_price(kind, goals, list(counts))
        keys = {f"{kind}:{o}:{p}:{goals[o].id}:{day.isoformat()}": (o, p) for o, p in lines}
        existing = dict(Commission.objects.filter(source_key__in=keys).values_list("source_key", "id"))
        created = _lines_create(kind, day, goals, lines, keys, existing, now)
        grown = _lines_grow(lines, keys, existing, now)
    return created, grown


def _lines_price(
    kind: str, goals: dict[int, Goal], counts: list[tuple[int, int, str, int]]
) -> dict[tuple[int, int], tuple[int, Decimal, Decimal, str]]:
    """Per (offer, publisher): (quantity, exact revenue, exact payout, price source)."""
    customs: dict[tuple[int, int], list[CustomPayout]] = defaultdict(list)
    for custom in CustomPayout.objects.filter(offer_id__in={c[0] for c in counts}):
        customs[(custom.offer_id, custom.publisher_id)].append(custom)
    per = THOUSAND if kind == Goal.PayoutType.CPM else Decimal(1)
    out: dict[tuple[int, int], tuple[int, Decimal, Decimal, str]] = {}
    for offer_id, publisher_id, country, n in counts:
        price = price_pick(goal=goals[offer_id], customs=customs[(offer_id, publisher_id)], country=country)
        q, rev, pay, source = out.get((offer_id, publisher_id), (0, Decimal(0), Decimal(0), price.source))
        out[(offer_id, publisher_id)] = (
            q + n,
            rev + n * price.revenue / per,
            pay + n * price.payout / per,
            source,
        )
    return out


Lines = dict[tuple[int, int], tuple[int, Decimal, Decimal, str]]


def _lines_create(
    kind: str,
    day: date,
    goals: dict[int, Goal],
    lines: Lines,
    keys: dict[str, tuple[int, int]],
    existing: dict[str, int],
    now: datetime,
) -> int:
    rows = []
    for key, (offer_id, publisher_id) in keys.items():
        if key in existing:
            continue
        goal = goals[offer_id]
        offer, cur = goal.offer, goal.offer.currency
        q, revenue, payout, source = lines[(offer_id, publisher_id)]
        hold = datetime.combine(day + timedelta(days=1 + offer.hold_days), time.min, tzinfo=UTC)
        rows.append(
            (
                key,
                kind,
                None,
                offer.advertiser_id,
                offer_id,
                publisher_id,
                goal.id,
                day,
                q,
                CommissionStatus.PENDING,
                cur,
                money_round(revenue, cur),
                money_round(payout, cur),
                None,
                None,
                "",
                None,
                source,
                hold,
                False,
                "",
                1,
                None,
                now,
                now,
            )
        )
    written = insert_rows(
        Commission._meta.db_table,
        _COMMISSION_COLUMNS,
        rows,
        conflict="source_key",
        returning=("id", "source_key"),
    )
    by_key = {k: pk for pk, k in written}
    postings = [
        posting_for(
            CommissionRef(by_key[r[0]], r[3], r[5], r[10]),
            kind=Transaction.Kind.COMMISSION,
            revision=1,
            old=None,
            new=(r[9], r[11], r[12]),
            memo=f"{kind} x{r[8]}",
        )
        for r in rows
        if r[0] in by_key
    ]
    ledger_post_many(postings, now=now)
    events.commissions_changed_on_commit(event=events.CREATED, commission_ids=by_key.values())
    return len(by_key)


def _lines_grow(
    lines: Lines, keys: dict[str, tuple[int, int]], existing: dict[str, int], now: datetime
) -> int:
    by_id = {pk: keys[key] for key, pk in existing.items()}
    changes = []
    for c in commissions_lock(by_id):
        q, revenue, payout, _ = lines[by_id[c.pk]]
        if q <= c.quantity or not c.is_open:
            continue
        changes.append(
            Change(
                commission=c,
                status=c.status,
                revenue=money_round(revenue, c.currency),
                payout=money_round(payout, c.currency),
                quantity=q,
                txn_kind=Transaction.Kind.COMMISSION_INCREASE,
                memo=f"{c.kind} x{c.quantity} -> x{q}",
            )
        )
    return len(changes_apply(changes, now=now))
