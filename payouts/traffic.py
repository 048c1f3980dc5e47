"""CPC and CPM earnings as daily commission lines, one per offer x publisher x goal x UTC day.

Why daily lines, not a commission per click: a busy network records hundreds of millions of
clicks; a commission row and a three-entry ledger transaction per click would make the ledger
the largest table in the system, for money that is only ever reported, approved and paid per
day. A line is recomputed from the clicks as the day fills; its amount is always
round(count x price) of the whole day, rounded once, so many small changes never accumulate
rounding drift. The ledger stays append-only: a line that grows posts the increase as a new
COMMISSION_INCREASE transaction, one that shrinks posts a COMMISSION_DECREASE.

Only **valid** traffic earns, as on Everflow and most networks: CPC pays clicks that were
redirected to the offer (``reason == ""``), unique within the offer's window and carrying no
fraud flag (bot user agent, datacenter IP, duplicate, flood, or judged invalid later); CPM pays
impressions that are unique and unflagged, per 1000. The rest is recorded and counted apart
(reports show it as invalid traffic, by reason).

A line shrinks when traffic in it is judged invalid after it was written
(``traffic_invalidate``): the click or impression gets the ``invalidated`` flag and the day is
recounted at once. Clicks are otherwise append-only, so a recount that finds fewer valid clicks
than the line holds comes from such a judgement; never delete raw clicks of a day whose lines
are still open (it would shrink them too). Custom payouts with country conditions apply per
click: the day's amount is the sum over countries of count x price.
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
from payouts.bulk import insert_rows, rows_fetch
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
from payouts.traffic_shares import ATTRIBUTES, Part, shares_write
from tracking.models import Click, Impression
from tracking.models.clicks import ClickFlag

THOUSAND = Decimal(1000)
Lines = dict[tuple[int, int], tuple[int, Decimal, Decimal, str]]
Written = tuple[int, Decimal, Decimal, str]  # a line written or changed: id, revenue, payout, key
_NO_LINE = (0, Decimal(0), Decimal(0), "")


def clicks_valid(qs: QuerySet[Any]) -> QuerySet[Any]:
    """The clicks a CPC line pays: redirected, unique, no fraud flag."""
    return qs.filter(reason="", is_unique=True, fraud_flags=[])


def impressions_valid(qs: QuerySet[Any]) -> QuerySet[Any]:
    """The impressions a CPM line pays: unique, no fraud flag."""
    return qs.filter(is_unique=True, fraud_flags=[])


def traffic_reconcile(*, day_from: date, day_to: date, now: datetime | None = None) -> dict[str, int]:
    """Create, grow or shrink the CPC and CPM lines of every UTC day in [day_from, day_to];
    ``now`` stamps them and their ledger entries (default: the current time)."""
    stats: dict[str, int] = defaultdict(int)
    day = day_from
    while day <= day_to:
        for kind in (Goal.PayoutType.CPC, Goal.PayoutType.CPM):
            created, grown, shrunk = day_lines_reconcile(kind=kind, day=day, now=now)
            stats["created"] += created
            stats["grown"] += grown
            stats["shrunk"] += shrunk
        day += timedelta(days=1)
    return dict(stats)


def _flag_invalid(model: type[Click | Impression], ids: list[Any]) -> set[date]:
    """Add the ``invalidated`` flag to these rows (those not carrying it yet); the UTC days
    they fall on. Few rows per call (a staff decision), so they are updated one by one."""
    days = set()
    flag = ClickFlag.INVALIDATED.value
    manager = model.objects
    for pk, flags, created_at in manager.filter(pk__in=ids).values_list("pk", "fraud_flags", "created_at"):
        if flag in (flags or []):
            continue
        manager.filter(pk=pk).update(fraud_flags=[*(flags or []), flag])
        days.add(created_at.astimezone(UTC).date())
    return days


@transaction.atomic
def traffic_invalidate(
    *,
    click_ids: list[Any] | None = None,
    impression_ids: list[Any] | None = None,
    reason: str,
    actor: str,
    now: datetime | None = None,
) -> dict[str, int]:
    """Judge these clicks and impressions invalid after the fact (a fraud review, an advertiser's
    dispute upheld): each gets the ``invalidated`` flag, and the days they fall on are recounted
    at once, so their lines shrink and the ledger carries the decrease (COMMISSION_DECREASE,
    memo naming who and why). Already invalidated rows are left alone: running it twice posts
    nothing the second time."""
    note = f"invalid traffic ({actor}: {reason})"[:200]
    stats: dict[str, int] = defaultdict(int)
    for kind, model, ids in (
        (Goal.PayoutType.CPC, Click, click_ids),
        (Goal.PayoutType.CPM, Impression, impression_ids),
    ):
        for day in sorted(_flag_invalid(model, list(ids or []))):
            _, grown, shrunk = day_lines_reconcile(kind=kind, day=day, now=now, note=note)
            stats["grown"] += grown
            stats["shrunk"] += shrunk
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


def day_lines_reconcile(
    *, kind: str, day: date, now: datetime | None = None, note: str = ""
) -> tuple[int, int, int]:
    """(created, grown, shrunk) lines of this kind and day; ``note`` goes on the memo of the
    decreases (why the traffic became invalid)."""
    goals = _goals_for(kind)
    if not goals:
        return 0, 0, 0
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
            qs = clicks_valid(Click.objects.filter(**window))
        else:
            qs = impressions_valid(Impression.objects.filter(**window))
        counts = qs.values_list("offer_id", "publisher_id", "country").annotate(n=Count("id")).order_by()
        lines, _ = _lines_price(kind, goals, list(counts))
        keys = {_line_key(kind, o, p, goals[o].id, day): (o, p) for o, p in lines}
        existing = _lines_existing(kind, day, goals, keys)
        made = _lines_create(kind, day, goals, lines, keys, existing, now)
        changed, grown = _lines_change(lines, keys, existing, now, note)
        written = [(pk, rev, pay, keys[key]) for pk, rev, pay, key in (*made, *changed)]
        if written:
            # Reports split each written line over its traffic's country, device, sub ids and source
            # (traffic_shares). Counted only for the lines that changed: the finer count costs
            # more than the line's, and an unchanged day (most recounts) needs none.
            pairs = {w[3] for w in written}
            fine = qs.filter(offer_id__in={o for o, _ in pairs}, publisher_id__in={p for _, p in pairs})
            detail = fine.values_list("offer_id", "publisher_id", *ATTRIBUTES).annotate(n=Count("id"))
            rows = [r for r in rows_fetch(detail.order_by()) if (r[0], r[1]) in pairs]
            _, parts = _lines_price(kind, goals, rows)
            shares_write(written, parts)
    return len(made), grown, len(changed) - grown


def _line_key(kind: str, offer_id: int, publisher_id: int, goal_id: int, day: date) -> str:
    return f"{kind}:{offer_id}:{publisher_id}:{goal_id}:{day.isoformat()}"


def _lines_existing(
    kind: str, day: date, goals: dict[int, Goal], keys: dict[str, tuple[int, int]]
) -> dict[str, int]:
    """The day's lines already written, by key: those with traffic counted now, and those whose
    traffic has all become invalid since (added to ``keys``, so they are brought to zero)."""
    existing = {}
    rows = Commission.objects.filter(kind=kind, day=day, offer_id__in=goals).values_list(
        "source_key", "id", "offer_id", "publisher_id", "goal_id"
    )
    for key, pk, offer_id, publisher_id, goal_id in rows:
        if goal_id != goals[offer_id].id:
            continue  # a line of a goal that no longer pays this kind: left as it was
        existing[key] = pk
        keys.setdefault(key, (offer_id, publisher_id))
    return existing


def _lines_price(
    kind: str, goals: dict[int, Goal], counts: list[tuple[Any, ...]]
) -> tuple[Lines, dict[tuple[int, int], list[Part]]]:
    """Per (offer, publisher): (quantity, exact revenue, exact payout, price source), and the
    parts its shares split it by (each combination of visitor attributes: count, exact money).
    ``counts`` rows are (offer, publisher, *ATTRIBUTES, n); the price follows the country."""
    customs: dict[tuple[int, int], list[CustomPayout]] = defaultdict(list)
    for custom in CustomPayout.objects.filter(offer_id__in={c[0] for c in counts}):
        customs[(custom.offer_id, custom.publisher_id)].append(custom)
    per = THOUSAND if kind == Goal.PayoutType.CPM else Decimal(1)
    totals: dict[tuple[int, int], list[Any]] = {}
    parts: dict[tuple[int, int], list[Part]] = defaultdict(list)
    # Per (offer, publisher, country): the price of one click or impression, divided by ``per``
    # once here rather than once per combination (a day can hold tens of thousands of them).
    units: dict[tuple[int, int, str], tuple[Decimal, Decimal, str]] = {}
    for row in counts:
        pair, n = (row[0], row[1]), row[-1]
        unit = units.get((*pair, row[2]))
        if unit is None:
            price = price_pick(goal=goals[row[0]], customs=customs[pair], country=row[2])
            unit = units[(*pair, row[2])] = (price.revenue / per, price.payout / per, price.source)
        rev, pay = n * unit[0], n * unit[1]
        line = totals.get(pair)
        if line is None:
            totals[pair] = [n, rev, pay, unit[2]]
        else:
            line[0] += n
            line[1] += rev
            line[2] += pay
        parts[pair].append((row[2:-1], n, rev, pay))
    out: Lines = {pair: (q, revenue, payout, source) for pair, (q, revenue, payout, source) in totals.items()}
    return out, parts


def _lines_create(
    kind: str,
    day: date,
    goals: dict[int, Goal],
    lines: Lines,
    keys: dict[str, tuple[int, int]],
    existing: dict[str, int],
    now: datetime,
) -> list[Written]:
    """Write the lines not written yet; returns them as (id, revenue, payout, key)."""
    rows = []
    for key, (offer_id, publisher_id) in keys.items():
        if key in existing or (offer_id, publisher_id) not in lines:
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
    return [(by_key[r[0]], r[11], r[12], r[0]) for r in rows if r[0] in by_key]


def _lines_change(
    lines: Lines, keys: dict[str, tuple[int, int]], existing: dict[str, int], now: datetime, note: str
) -> tuple[list[Written], int]:
    """Bring each open line to its valid count: the lines changed, and how many of them grew. A
    closed line (rejected or reversed) holds nothing in the ledger and stays as it is."""
    by_id = {pk: keys[key] for key, pk in existing.items()}
    changes = []
    for c in commissions_lock(by_id):
        q, revenue, payout, _ = lines.get(by_id[c.pk], _NO_LINE)
        if q == c.quantity or not c.is_open:
            continue
        grows = q > c.quantity
        memo = f"{c.kind} x{c.quantity} -> x{q}" + ("" if grows else f": {note or 'invalid traffic'}")
        changes.append(
            Change(
                commission=c,
                status=c.status,
                revenue=money_round(revenue, c.currency),
                payout=money_round(payout, c.currency),
                quantity=q,
                txn_kind=Transaction.Kind.COMMISSION_INCREASE
                if grows
                else Transaction.Kind.COMMISSION_DECREASE,
                memo=memo[:255],
            )
        )
    done = changes_apply(changes, now=now)
    grew = {ch.commission.pk for ch in changes if ch.txn_kind == Transaction.Kind.COMMISSION_INCREASE}
    return [(c.pk, c.revenue, c.payout, c.source_key) for c in done], sum(1 for c in done if c.pk in grew)
