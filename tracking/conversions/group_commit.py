"""Group commit: concurrent postbacks in one app-server process share one database round trip.

Why: a postback's own work is small (a click lookup and one INSERT), so on PostgreSQL most of
its cost is per statement and per transaction: the client's send/parse/wait, the server's
parse, plan and COMMIT. When many requests arrive at once, each server thread waiting its turn
for its own INSERT is the bottleneck (BENCHMARKS.md, postbacks). Here the first thread to
arrive becomes the leader: it takes every request queued so far and serves them together (the
click lookups in one query, the conversions in one INSERT statement, its own transaction and
COMMIT); threads arriving meanwhile queue, and the oldest of them leads the next batch. Nobody
waits on a timer, so a lone postback costs what it did before, and nobody is answered before
the COMMIT that holds its row.

The database still decides every duplicate: the INSERT offers each row with ``ON CONFLICT DO
NOTHING``, so a row refused by (offer, goal, txn_id) or ``dedupe_key`` gets no id, exactly as
the lone INSERT's IntegrityError did. If a batch fails as a whole (a bad row, a lost
connection), each of its items is written again on its own, so one poison postback cannot fail
its neighbours.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import psycopg
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from psycopg.types.json import Jsonb

from tracking.models import Conversion

T = TypeVar("T")
R = TypeVar("R")


class _Slot(Generic[T, R]):
    """One caller's item. ``wake`` is held until the item is done, or until the caller is
    promoted to leader: each waiting thread is woken exactly once, by name."""

    __slots__ = ("done", "error", "item", "result", "wake")

    def __init__(self, item: T) -> None:
        self.item = item
        self.done = False
        self.result: R | None = None
        self.error: BaseException | None = None
        self.wake = threading.Lock()
        self.wake.acquire()


@dataclass
class GroupCommit(Generic[T, R]):
    """Leader/follower batching of ``flush`` calls across the threads of one process.

    ``flush(items)`` runs on the leader's thread (so on its own database connection) and
    returns one result per item, in order; if it raises, ``single(item)`` is called for each
    item instead, on the same thread, and each item gets its own result or exception.
    """

    flush: Callable[[Sequence[T]], list[R]]
    single: Callable[[T], R]
    max_batch: int = 64
    _mutex: threading.Lock = field(default_factory=threading.Lock)
    _queue: list[_Slot[T, R]] = field(default_factory=list)
    _flushing: bool = False

    def submit(self, item: T) -> R:
        slot: _Slot[T, R] = _Slot(item)
        with self._mutex:
            self._queue.append(slot)
            follow, self._flushing = self._flushing, True
        if follow:
            slot.wake.acquire()  # done by a leader, or promoted to lead the next batch
        if not slot.done:
            # Leading: our slot is first in the queue (a new leader finds it empty; a promoted
            # one was its head), so the batch we take holds it.
            with self._mutex:
                batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
            try:
                self._run(batch)
            finally:
                for other in batch:
                    if other is not slot:
                        other.wake.release()
                with self._mutex:
                    if self._queue:
                        self._queue[0].wake.release()  # not done: it leads the next batch
                    else:
                        self._flushing = False
        if slot.error is not None:
            raise slot.error
        return slot.result  # type: ignore[return-value]

    def _run(self, batch: list[_Slot[T, R]]) -> None:
        results: list[R] | None = None
        if len(batch) > 1:
            try:
                results = self.flush([s.item for s in batch])
            except Exception:
                results = None  # each on its own below, so only a bad one fails
        for i, slot in enumerate(batch):
            if results is not None:
                slot.result = results[i]
            else:
                try:
                    slot.result = self.single(slot.item)
                except Exception as exc:  # raised again in the slot's own thread
                    slot.error = exc
            slot.done = True


@dataclass
class InsertPlan:
    """The multi-row INSERT of conversions, shared by this module's thread batches and the ASGI
    edge's loop batches (aio_db.py)."""

    table: str
    names: list[str]
    # Per column: the attribute, and whether it is JSON (sent as jsonb, as Django's JSONField
    # sends it); psycopg adapts every other value as it is, which is what Django's PostgreSQL
    # backend does for these field types too (aware datetimes, Decimals, strings, ints).
    columns: list[tuple[str, bool]]
    by_rows: dict[int, str] = field(default_factory=dict)

    def sql(self, rows: int) -> str:
        """The INSERT for ``rows`` rows with PostgreSQL's own $n placeholders (cached: it is
        long, and psycopg would split a %s query of that length again on every call). One text
        per batch size, so each is prepared once per connection (``prepare=True``) and then
        costs PostgreSQL no parsing or planning."""
        if rows not in self.by_rows:
            width = len(self.names) + 1
            marks = (
                "(" + ", ".join(f"${r * width + c + 1}" for c in range(width)) + ")" for r in range(rows)
            )
            self.by_rows[rows] = (
                f"INSERT INTO {self.table} (id, {', '.join(self.names)}) VALUES "  # noqa: S608 (names from the model)
                + ", ".join(marks)
                + " ON CONFLICT DO NOTHING RETURNING id"
            )
        return self.by_rows[rows]

    def params(self, ids: Sequence[int], convs: Sequence[Conversion]) -> list[Any]:
        params: list[Any] = []
        for conv_id, conv in zip(ids, convs, strict=True):
            params.append(conv_id)
            for attname, is_json in self.columns:
                value = getattr(conv, attname)
                params.append(Jsonb(value) if is_json and value is not None else value)
        return params


def inserted_apply(
    ids: Sequence[int], convs: Sequence[Conversion], inserted: set[int], alias: str
) -> list[int | None]:
    """Each conversion's new id, or None where a unique key refused it; the inserted ones get
    their id and are marked saved, as ``save()`` would leave them."""
    out: list[int | None] = []
    for conv_id, conv in zip(ids, convs, strict=True):
        if conv_id in inserted:
            conv.id = conv_id
            conv._state.adding, conv._state.db = False, alias
            out.append(conv_id)
        else:
            out.append(None)
    return out


_PLAN: InsertPlan | None = None


def insert_plan() -> InsertPlan:
    """Built once from the model, without the database."""
    global _PLAN
    if _PLAN is None:
        quote = connection.ops.quote_name
        meta = Conversion._meta
        fields = [f for f in meta.concrete_fields if not f.primary_key]
        supported: tuple[type[models.Field[Any, Any]], ...] = (
            *(models.CharField, models.BooleanField, models.ForeignKey, models.IntegerField),
            *(models.DateTimeField, models.DecimalField, models.UUIDField, models.JSONField),
        )
        for f in fields:  # a new field type must be checked against what the ORM would send
            assert isinstance(f, supported), f"group commit cannot send {f!r} yet"
            assert not isinstance(f, models.JSONField) or f.encoder is None, "custom JSON encoder"
        _PLAN = InsertPlan(
            table=quote(meta.db_table),
            names=[quote(f.column) for f in fields],
            columns=[(f.attname, isinstance(f, models.JSONField)) for f in fields],
        )
    return _PLAN


# The conversion id sequence's name; the same in every database migrated from this schema.
SEQUENCE_SQL = "SELECT pg_get_serial_sequence($1, $2)"
IDS_SQL = "SELECT nextval($1::regclass) FROM generate_series(1, $2)"


def sequence_args() -> list[str]:
    meta = Conversion._meta
    assert meta.pk is not None
    return [meta.db_table, meta.pk.column]


class IdPool:
    """Conversion ids drawn from the table's sequence ahead, a block at a time, so a batch's
    rows carry their ids into the INSERT and RETURNING id says which ones the unique keys let
    in (rows without txn_id or dedupe_key have no other key to tell them apart by). Ids are
    unique as the sequence makes them, merely not in commit order, which they never were
    across connections; the pool starts empty in each forked worker. Not locked: the caller
    serializes ``shortfall``, the draw and ``take``."""

    BLOCK = 64

    def __init__(self) -> None:
        self._ids: deque[int] = deque()
        self._pid = os.getpid()

    def shortfall(self, n: int) -> int:
        """How many ids to draw before ``take(n)``: 0, or at least a block."""
        if self._pid != os.getpid():
            self._ids.clear()
            self._pid = os.getpid()
        return 0 if len(self._ids) >= n else max(n - len(self._ids), self.BLOCK)

    def add(self, ids: Sequence[int]) -> None:
        self._ids.extend(ids)

    def take(self, n: int) -> list[int]:
        return [self._ids.popleft() for _ in range(n)]


_IDS = IdPool()
_IDS_LOCK = threading.Lock()
_SEQUENCE: str | None = None


def _ids_take(n: int, cursor: psycopg.RawCursor[Any]) -> list[int]:
    global _SEQUENCE
    with _IDS_LOCK:
        need = _IDS.shortfall(n)
        if need:
            if _SEQUENCE is None:
                _SEQUENCE = cursor.execute(SEQUENCE_SQL, sequence_args()).fetchone()[0]  # type: ignore[index]
            rows = cursor.execute(IDS_SQL, [_SEQUENCE, need], prepare=True).fetchall()
            _IDS.add([row[0] for row in rows])
        return _IDS.take(n)


def conversions_insert(convs: Sequence[Conversion]) -> list[int | None]:
    """Insert ``convs`` in one statement (one transaction and COMMIT): each one's new id, or
    None where a unique key refused it as a duplicate. Sets ``id`` on the inserted ones."""
    plan = insert_plan()
    conn = connections[DEFAULT_DB_ALIAS]  # once: each `connection.x` is a thread-local lookup
    # wrap_database_errors: psycopg's exceptions become django.db's, as for any ORM query, so
    # the intake's "database unavailable: 503" handling sees them.
    with conn.wrap_database_errors:
        conn.ensure_connection()
        # Server-side binding: the values travel apart from the SQL text, with no quoting
        # work on this side; the statement is prepared once per connection and batch size.
        with psycopg.RawCursor(conn.connection) as cursor:
            ids = _ids_take(len(convs), cursor)
            cursor.execute(plan.sql(len(convs)), plan.params(ids, convs), prepare=True)
            inserted = {row[0] for row in cursor.fetchall()}
    return inserted_apply(ids, convs, inserted, conn.alias)


def _insert_one(conv: Conversion) -> int | None:
    return conversions_insert([conv])[0]


# One per process: its threads (the app server's) share it; each process has its own.
conversion_writer: GroupCommit[Conversion, int | None] = GroupCommit(
    flush=conversions_insert, single=_insert_one
)


def group_commit_applies() -> bool:
    """Only on PostgreSQL (the batch INSERT is PostgreSQL's SQL) and outside a caller's
    transaction: a batch runs on the leader's connection, which cannot see (or join) the
    caller's uncommitted work."""
    return (
        settings.POSTBACK_GROUP_COMMIT
        and connection.vendor == "postgresql"
        and not connection.in_atomic_block
    )
