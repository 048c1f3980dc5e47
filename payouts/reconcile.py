"""Reconciliation: conversions become commissions with their ledger transactions.

The work queue is tracking_conversion_unreconciled (tracking.models.UnreconciledConversion):
database triggers put a conversion's id there when it is recorded and whenever its status or
review flag changes. A batch takes the next ids out of it (``DELETE ... RETURNING``, skipping
rows another transaction holds), reads those conversions, prices them in Python with the same
``affiliates.pricing.price_pick`` attribution uses (payouts.reconcile_pricing), then writes
set-based: one statement for the commissions, one for their transactions, one for their entries
(binary COPY on PostgreSQL, see payouts.reconcile_copy; INSERT ... ON CONFLICT DO NOTHING
elsewhere), all in the transaction that deleted the ids. Conversions themselves are never
written. A worker killed mid-batch therefore leaves nothing behind and its ids are back in the
queue; two workers never take the same ids; and the unique ``source_key`` / ``Transaction.key``
make any replay write nothing.

A conversion whose status changed after its commission was made is queued again; the batch then
brings the commission to the conversion's status with new ledger transactions (see
payouts.postings).
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from affiliates.core.db import db_supports_async_commit, db_supports_binary_copy, db_supports_skip_locked
from payouts import events
from payouts.bulk import insert_rows, rows_fetch
from payouts.models import Commission, CommissionStatus, Transaction
from payouts.postings import (
    Change,
    CommissionRef,
    Posting,
    changes_apply,
    commissions_lock,
    ledger_post_many,
    posting_for,
)
from payouts.reconcile_copy import commissions_copy
from payouts.reconcile_pricing import (
    ACTION_TYPES,
    COMMISSION_COLUMN_TYPES,
    COMMISSION_COLUMNS,
    CONVERSION_FIELDS,
    HELD,
    ID,
    SKIP,
    STATUS,
    BatchPricer,
)
from tracking.lifecycle import LAWFUL
from tracking.models import Conversion, ConversionEvent, UnreconciledConversion

__all__ = [
    "ACTION_TYPES",
    "BATCH_SIZE",
    "BatchResult",
    "conversions_reconcile",
    "conversions_reconcile_batch",
    "transition_kind",
]
log = logging.getLogger(__name__)

# Conversions per batch (one database transaction). Each batch pays ~35 ms of fixed work (a
# dozen statements, loading prices and accounts, the commit): 2,000 per batch spent ~15% of the
# time there, 5,000 about 6%. A status change of one of its conversions waits for the batch to
# commit, well under a second.
BATCH_SIZE = 5000
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
    skipped: int = 0  # left in the queue (no FX rate yet): retried on the next run
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
    """Reconcile the queued conversions with after_id < id <= until_id, batch by batch.

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
    with _no_cyclic_gc():
        return _batch_redone_on_conflict(after_id=after_id, until_id=until_id, limit=limit, now=now)


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Hold the cyclic garbage collector off for the length of a batch.

    A batch keeps tens of thousands of small objects alive at once (rows, tuples, Decimals),
    long enough to be promoted to the oldest generation, and that makes the collector run full
    passes over everything the process holds (Django, the models, ~160,000 objects): 42 in 60
    batches of 5,000, ~90 ms each, 38% of reconciliation's Python time (bench/reconcile_profile.py).
    The batch makes no garbage cycles that need collecting meanwhile: its objects are freed by
    reference counting when it ends.
    """
    if not gc.isenabled():  # someone else holds it off already
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _batch_redone_on_conflict(
    *, after_id: int, until_id: int | None, limit: int, now: datetime | None
) -> BatchResult:
    now = now or timezone.now()
    if db_supports_binary_copy():
        import psycopg

        try:
            return _batch(after_id=after_id, until_id=until_id, limit=limit, now=now, copy=True)
        except psycopg.errors.UniqueViolation:
            # Someone wrote one of these commissions without taking its conversion from the
            # queue (see payouts.reconcile_copy); the batch rolled back whole. Redo it tolerating
            # that.
            log.warning("reconcile batch after id %s: a commission already exists; redoing it", after_id)
    return _batch(after_id=after_id, until_id=until_id, limit=limit, now=now, copy=False)


def _batch(*, after_id: int, until_id: int | None, limit: int, now: datetime, copy: bool) -> BatchResult:
    with transaction.atomic():
        _relax_commit_durability()
        ids = _claim(after_id=after_id, until_id=until_id, limit=limit)
        if not ids:
            return BatchResult()
        result = BatchResult(claimed=len(ids), last_id=ids[-1])
        rows = _conversions_read(ids)
        pricer = BatchPricer(rows)
        new_rows: list[tuple[Any, ...]] = []
        skipped: list[int] = []
        changed_ids: dict[int, tuple[str, bool]] = {}
        for row in rows:
            if row[_COMMISSION] is not None:  # it came back: its status or review hold changed since
                changed_ids[row[_COMMISSION]] = (row[STATUS], row[HELD])
                continue
            built = pricer.commission_row(row)
            if built is SKIP:
                skipped.append(row[ID])
            elif isinstance(built, tuple):
                new_rows.append(built)
        if copy:
            created = commissions_copy(new_rows, columns=COMMISSION_COLUMNS, now=now)
        else:
            created = _commissions_create(new_rows, now=now)
        result.created = len(created)
        result.changed = len(_commissions_follow(changed_ids, now=now))
        result.skipped = len(skipped)
        if skipped:  # back in the queue, in this transaction: the next run retries them
            UnreconciledConversion.objects.bulk_create(
                [UnreconciledConversion(conversion_id=i) for i in skipped], ignore_conflicts=True
            )
        events.commissions_changed_on_commit(event=events.CREATED, commission_ids=created)
    return result


# Where a conversion row (CONVERSION_FIELDS) carries the id of its commission, if it has one.
_COMMISSION = len(CONVERSION_FIELDS)


def _conversions_read(ids: list[int]) -> list[tuple[Any, ...]]:
    """The claimed conversions, in id order, each with its commission's id (or None).

    One statement, after the claim: its snapshot then includes any commission made by a worker
    that took one of these ids before us (it committed before we could take them). The
    commission is looked up per row by a correlated subquery, i.e. one probe of its unique
    conversion_id index each: as ``conversion_id = ANY(ids)`` the planner chose to scan the
    whole commission table (more so while the table has no statistics yet), a cost that grew
    with every batch. An id whose conversion is gone (deleted by hand) is simply not returned,
    and so dropped from the queue.
    """
    commission = Commission.objects.filter(conversion_id=OuterRef("id")).order_by().values("id")
    return rows_fetch(
        Conversion.objects.filter(id__in_ids=ids)
        .annotate(commission_id=Subquery(commission))
        .order_by("id")
        .values_list(*CONVERSION_FIELDS, "commission_id")
    )


# The ids are taken out of the queue with one DELETE ... RETURNING, not locked with SELECT ...
# FOR UPDATE and deleted at the end: one statement instead of two, and whoever queues one of
# them again meanwhile (INSERT ... ON CONFLICT, with DO NOTHING or DO UPDATE) waits for a
# deleting transaction to end and then inserts the id anew, whereas a row we had merely locked
# would look "already queued" to DO NOTHING and the change would be lost with our DELETE.
# SKIP LOCKED passes over ids other reconcilers are taking, and over ids whose status change is
# in flight (tracking's update trigger locks the queued row until the change commits), so a
# batch never takes an id while holding a read of its conversion that is about to go stale.
# The claim is a MATERIALIZED CTE, evaluated exactly once. As ``DELETE ... WHERE id IN (SELECT
# ... LIMIT n FOR UPDATE SKIP LOCKED)`` the planner may run the LIMIT subquery more than once
# (a semi-join re-scanning it), and a batch then claimed more than ``limit`` ids: CI saw 5
# claimed of a limit of 3.
_CLAIM_PG = (
    "WITH claimed AS MATERIALIZED ("
    " SELECT conversion_id FROM tracking_conversion_unreconciled"
    " WHERE conversion_id > %s AND conversion_id <= %s"
    " ORDER BY conversion_id LIMIT %s FOR UPDATE SKIP LOCKED)"
    " DELETE FROM tracking_conversion_unreconciled AS queue USING claimed"
    " WHERE queue.conversion_id = claimed.conversion_id"
    " RETURNING queue.conversion_id"
)
_NO_LIMIT = 2**63 - 1


def _claim(*, after_id: int, until_id: int | None, limit: int) -> list[int]:
    """Take the next queued conversion ids out of the queue, in this transaction, in id order."""
    params = [after_id, _NO_LIMIT if until_id is None else until_id, limit]
    with connection.cursor() as cursor:
        if db_supports_skip_locked():
            cursor.execute(_CLAIM_PG, params)
            return sorted(i for (i,) in cursor.fetchall())
    # SQLite (the embedded mode): the transaction took the database's single write lock at
    # BEGIN (transaction_mode IMMEDIATE), so nobody else can take or queue ids in between; and
    # DELETE ... RETURNING needs SQLite 3.35, newer than Django's minimum.
    queued = UnreconciledConversion.objects.filter(conversion_id__gt=params[0], conversion_id__lte=params[1])
    ids = list(queued.order_by("conversion_id").values_list("conversion_id", flat=True)[:limit])
    UnreconciledConversion.objects.filter(conversion_id__in_ids=ids).delete()
    return ids


def _relax_commit_durability() -> None:
    """Do not wait for the WAL flush at this batch's commit (PostgreSQL).

    Safe because a batch is pure derivation: the commissions, their entries and the removal of
    their ids from the queue commit or vanish together, so a batch lost to a database crash just
    leaves its conversions queued and the next run redoes it. It roughly halves commit latency.
    """
    if db_supports_async_commit():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


# The insert's columns: the priced row's, then the batch's time.
_COMMISSION_COLUMNS = [*COMMISSION_COLUMN_TYPES, ("created_at", "ts"), ("updated_at", "ts")]


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


def _commissions_follow(targets: dict[int, tuple[str, bool]], *, now: datetime) -> list[Commission]:
    """Bring existing commissions to their conversions' new status and review hold.

    The conversion's change was judged by tracking.lifecycle when it was made; a commission
    that cannot follow lawfully (it was decided on its own meanwhile: both are final then) is
    left as it is and logged, rather than failing the whole batch on the database's check.
    """
    changes = []
    locked = commissions_lock(targets)
    # Who moved each conversion (its latest event): the commission keeps the same decider.
    deciders = dict(
        ConversionEvent.objects.filter(conversion_id__in=[c.conversion_id for c in locked])
        .order_by("conversion_id", "created_at", "id")
        .values_list("conversion_id", "actor")
    )
    for c in locked:
        status, held = targets[c.pk]
        if status == c.status:
            if held != c.held_for_review:
                changes.append(
                    Change(
                        commission=c,
                        status=c.status,
                        revenue=c.revenue,
                        payout=c.payout,
                        txn_kind="adjustment",
                        extra={"held_for_review": held},
                    )
                )
            continue
        if (c.status, status) not in LAWFUL:
            log.warning("commission %s stays %s: its conversion is now %s", c.pk, c.status, status)
            continue
        changes.append(
            Change(
                commission=c,
                status=status,
                revenue=c.revenue,
                payout=c.payout,
                txn_kind=_TXN_KIND[status],
                reason="conversion status changed",
                actor=deciders.get(c.conversion_id or 0) or "reconcile",
                extra={"held_for_review": held},
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
