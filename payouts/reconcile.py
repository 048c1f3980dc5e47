"""Reconciliation: conversions become commissions with their ledger transactions.

A batch is claimed with ``SELECT ... FOR UPDATE SKIP LOCKED`` (on SQLite, whose single writer
serialises batches, the lock clause is a no-op), priced in Python with the same
``affiliates.pricing.price_pick`` attribution uses, then written set-based: one INSERT for the
commissions, one for their transactions, one for their entries, one UPDATE marking the
conversions reconciled, all in one database transaction. A worker killed mid-batch therefore
leaves nothing behind and its batch is simply claimed again; two workers never claim the same
rows; and the unique ``source_key`` / ``Transaction.key`` make any replay write nothing.

A conversion whose status changed after its commission was made comes back with
``reconciled_at`` NULL; the batch then brings the commission to the conversion's status with
new ledger transactions (see payouts.postings).
"""

from __future__ import annotations

import logging
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from affiliates.models import CustomPayout, Goal
from affiliates.pricing import Price, price_pick
from payouts import events
from payouts.bulk import insert_rows
from payouts.models import Commission, CommissionStatus, FxRate, Transaction
from payouts.money import money_round
from payouts.postings import (
    Change,
    CommissionRef,
    Posting,
    changes_apply,
    commissions_lock,
    ledger_post_many,
    posting_for,
)
from tracking.models import Conversion

log = logging.getLogger(__name__)

BATCH_SIZE = 2000
ACTION_TYPES = (Goal.PayoutType.CPL, Goal.PayoutType.CPA, Goal.PayoutType.CPS, Goal.PayoutType.CPI)
_CONVERSION_FIELDS = (
    "id",
    "created_at",
    "offer_id",
    "publisher_id",
    "goal_id",
    "status",
    "amount",
    "currency",
    "country",
    "held_for_review",
)
_TXN_KIND: dict[str, str] = {
    CommissionStatus.APPROVED: Transaction.Kind.APPROVAL,
    CommissionStatus.REJECTED: Transaction.Kind.REJECTION,
    CommissionStatus.REVERSED: Transaction.Kind.REVERSAL,
    CommissionStatus.PENDING: Transaction.Kind.ADJUSTMENT,
}


@dataclass
class BatchResult:
    claimed: int = 0
    created: int = 0
    changed: int = 0
    skipped: int = 0  # left unreconciled (no FX rate yet): retried on the next run
    last_id: int = 0

    def add(self, other: BatchResult) -> None:
        self.claimed += other.claimed
        self.created += other.created
        self.changed += other.changed
        self.skipped += other.skipped
        self.last_id = max(self.last_id, other.last_id)


def conversions_reconcile(
    *,
    after_id: int = 0,
    until_id: int | None = None,
    batch_size: int = BATCH_SIZE,
    max_batches: int = 0,
    now: datetime | None = None,
) -> BatchResult:
    """Reconcile unreconciled conversions with after_id < id <= until_id, batch by batch.

    Walks the range by id (keyset), so a conversion that cannot be priced yet (a missing FX
    rate) is passed over instead of blocking the rest; the next run retries it. ``now`` stamps
    the commissions and ledger entries (default: the current time; the demo replays past days).
    """
    total = BatchResult(last_id=after_id)
    batches = 0
    while True:
        result = conversions_reconcile_batch(
            after_id=total.last_id, until_id=until_id, limit=batch_size, now=now
        )
        total.add(result)
        batches += 1
        if result.claimed < batch_size or (max_batches and batches >= max_batches):
            return total


def conversions_reconcile_batch(
    *, after_id: int, until_id: int | None, limit: int, now: datetime | None = None
) -> BatchResult:
    now = now or timezone.now()
    with transaction.atomic():
        _relax_commit_durability()
        qs = Conversion.objects.filter(reconciled_at__isnull=True, id__gt=after_id)
        if until_id is not None:
            qs = qs.filter(id__lte=until_id)
        rows = list(qs.order_by("id").select_for_update(skip_locked=True).values(*_CONVERSION_FIELDS)[:limit])
        if not rows:
            return BatchResult()
        result = BatchResult(claimed=len(rows), last_id=rows[-1]["id"])
        existing = dict(
            Commission.objects.filter(conversion_id__in=[r["id"] for r in rows]).values_list(
                "conversion_id", "id"
            )
        )
        pricer = _Pricer(rows)
        new_rows: list[tuple[Any, ...]] = []
        skipped: set[int] = set()
        changed_ids: dict[int, str] = {}
        for row in rows:
            if row["id"] in existing:
                changed_ids[existing[row["id"]]] = row["status"]
                continue
            built = pricer.commission_row(row)
            if built is _SKIP:
                skipped.add(row["id"])
            elif isinstance(built, tuple):
                new_rows.append(built)
        created = _commissions_create(new_rows, now=now)
        result.created = len(created)
        result.changed = len(_commissions_follow(changed_ids, now=now))
        result.skipped = len(skipped)
        done = [r["id"] for r in rows if r["id"] not in skipped]
        Conversion.objects.filter(id__in=done).update(reconciled_at=now)
        events.commissions_changed_on_commit(event=events.CREATED, commission_ids=created)
    return result


_SKIP = object()


def _relax_commit_durability() -> None:
    """Do not wait for the WAL flush at this batch's commit (PostgreSQL).

    Safe because a batch is pure derivation: the commissions, their entries and the conversions'
    reconciled_at commit or vanish together, so a batch lost to a database crash just leaves its
    conversions unreconciled and the next run redoes it. It roughly halves commit latency.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


class _Pricer:
    """Everything needed to price a batch, loaded in a few queries up front."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        goal_ids = {r["goal_id"] for r in rows if r["goal_id"]}
        self.goals = {g.id: g for g in Goal.objects.filter(id__in=goal_ids).select_related("offer")}
        pairs = {(r["offer_id"], r["publisher_id"]) for r in rows if r["goal_id"]}
        self.customs: dict[tuple[int, int], list[CustomPayout]] = defaultdict(list)
        for custom in CustomPayout.objects.filter(
            offer_id__in={p[0] for p in pairs}, publisher_id__in={p[1] for p in pairs}
        ):
            self.customs[(custom.offer_id, custom.publisher_id)].append(custom)
        self.prices: dict[tuple[int, int, str], Price] = {}
        self.fx = _FxTable(rows, self.goals)

    def price(self, goal: Goal, publisher_id: int, country: str) -> Price:
        key = (goal.id, publisher_id, country)
        if key not in self.prices:
            customs = self.customs.get((goal.offer_id, publisher_id), [])
            self.prices[key] = price_pick(goal=goal, customs=customs, country=country)
        return self.prices[key]

    def commission_row(self, row: dict[str, Any]) -> tuple[Any, ...] | object | None:
        """The commission columns for a conversion; None when it earns nothing (rejected,
        unattributed, or a CPC/CPM goal, which earn through daily lines); _SKIP when it cannot
        be priced yet."""
        goal = self.goals.get(row["goal_id"])
        if goal is None or goal.payout_type not in ACTION_TYPES or row["publisher_id"] is None:
            return None
        if row["status"] not in (CommissionStatus.PENDING, CommissionStatus.APPROVED):
            return None
        offer = goal.offer
        currency = offer.currency
        original, original_currency = row["amount"], row["currency"] or currency
        sale, rate = original, None
        if original is not None and original_currency != currency:
            rate = self.fx.rate(original_currency, currency, row["created_at"])
            if rate is None:
                if goal.payout_type == Goal.PayoutType.CPS:
                    log.warning("conversion %s: no %s/%s rate yet", row["id"], original_currency, currency)
                    return _SKIP
                sale = None  # a flat price does not need the sale amount converted
            else:
                sale = original * rate
        price = self.price(goal, row["publisher_id"], row["country"])
        payout, revenue = price.amounts(sale)
        created_at: datetime = row["created_at"]
        return (
            f"conversion:{row['id']}",
            Commission.Kind.CONVERSION,
            row["id"],
            offer.advertiser_id,
            offer.id,
            row["publisher_id"],
            goal.id,
            created_at.date(),
            1,
            row["status"],
            currency,
            money_round(revenue, currency),
            money_round(payout, currency),
            sale,
            original,
            original_currency if original is not None else "",
            rate,
            price.source,
            created_at + timedelta(days=offer.hold_days),
            row["held_for_review"],
            "",
            1,
            created_at if row["status"] == CommissionStatus.APPROVED else None,
        )


class _FxTable:
    """The rates a batch may need, with bisect lookup of the rate in force at a time."""

    def __init__(self, rows: list[dict[str, Any]], goals: dict[int, Goal]) -> None:
        pairs = set()
        for r in rows:
            goal = goals.get(r["goal_id"])
            if goal and r["amount"] is not None and r["currency"] and r["currency"] != goal.offer.currency:
                pairs.add((r["currency"], goal.offer.currency))
        self.table: dict[tuple[str, str], tuple[list[datetime], list[Decimal]]] = {}
        if not pairs:
            return
        wanted = pairs | {(q, b) for b, q in pairs}
        grouped: dict[tuple[str, str], list[tuple[datetime, Decimal]]] = defaultdict(list)
        for base, quote, valid_from, rate in FxRate.objects.filter(
            base__in={p[0] for p in wanted}, quote__in={p[1] for p in wanted}
        ).values_list("base", "quote", "valid_from", "rate"):
            if (base, quote) in wanted:
                grouped[(base, quote)].append((valid_from, rate))
        for pair, items in grouped.items():
            items.sort()
            self.table[pair] = ([t for t, _ in items], [r for _, r in items])

    def _lookup(self, pair: tuple[str, str], at: datetime) -> Decimal | None:
        times, rates = self.table.get(pair, ([], []))
        i = bisect_right(times, at)
        return rates[i - 1] if i else None

    def rate(self, base: str, quote: str, at: datetime) -> Decimal | None:
        """BASE->QUOTE at ``at``; an inverse QUOTE->BASE row is used when no direct one exists."""
        direct = self._lookup((base, quote), at)
        if direct is not None:
            return direct
        inverse = self._lookup((quote, base), at)
        # 10 places: the stored rate's precision, so the rate on the commission is the one used.
        return (Decimal(1) / inverse).quantize(Decimal("1E-10")) if inverse is not None else None


_COMMISSION_COLUMNS = [
    ("source_key", "str"),
    ("kind", "str"),
    ("conversion_id", "int"),
    ("advertiser_id", "int"),
    ("offer_id", "int"),
    ("publisher_id", "int"),
    ("goal_id", "int"),
    ("day", "date"),
    ("quantity", "int"),
    ("status", "str"),
    ("currency", "str"),
    ("revenue", "money"),
    ("payout", "money"),
    ("sale_amount", "money"),
    ("original_amount", "money"),
    ("original_currency", "str"),
    ("fx_rate", "money"),
    ("price_source", "str"),
    ("hold_until", "ts"),
    ("held_for_review", "bool"),
    ("status_reason", "str"),
    ("revision", "int"),
    ("approved_at", "ts"),
    ("created_at", "ts"),
    ("updated_at", "ts"),
]


def _commissions_create(rows: list[tuple[Any, ...]], *, now: datetime) -> list[int]:
    """Insert commissions (skipping source keys already present) and post their creation."""
    written = insert_rows(
        Commission._meta.db_table,
        _COMMISSION_COLUMNS,
        [(*row, now, now) for row in rows],
        conflict="source_key",
        returning=("id", "source_key"),
    )
    by_key = {key: pk for pk, key in written}
    postings: list[Posting] = []
    for row in rows:
        pk = by_key.get(row[0])
        if pk is None:
            continue
        stub = CommissionRef(pk, row[3], row[5], row[10])
        postings.append(
            posting_for(
                stub, kind=Transaction.Kind.COMMISSION, revision=1, old=None, new=(row[9], row[11], row[12])
            )
        )
    ledger_post_many(postings, now=now)
    return list(by_key.values())


def _commissions_follow(targets: dict[int, str], *, now: datetime) -> list[Commission]:
    """Bring existing commissions to their conversions' new status."""
    changes = []
    for c in commissions_lock(targets):
        status = targets[c.pk]
        if status == c.status:
            continue
        changes.append(
            Change(
                commission=c,
                status=status,
                revenue=c.revenue,
                payout=c.payout,
                txn_kind=_TXN_KIND[status],
                reason="conversion status changed",
            )
        )
    changed = changes_apply(changes, now=now)
    for status in (CommissionStatus.APPROVED, CommissionStatus.REJECTED, CommissionStatus.REVERSED):
        event = events.event_for_status(status)
        assert event is not None
        events.commissions_changed_on_commit(
            event=event, commission_ids=[c.pk for c in changed if c.status == status]
        )
    return changed


def transition_kind(status: str) -> str:
    return _TXN_KIND[status]
