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

import threading
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
class _InsertPlan:
    sql_head: str
    types: list[str]
    sql_tail: str
    # Per column: the attribute, and whether it is JSON (sent as jsonb, as Django's JSONField
    # sends it); psycopg adapts every other value as it is, which is what Django's PostgreSQL
    # backend does for these field types too (aware datetimes, Decimals, strings, ints).
    columns: list[tuple[str, bool]]
    by_rows: dict[int, str] = field(default_factory=dict)

    def sql(self, rows: int) -> str:
        """The statement for ``rows`` rows with PostgreSQL's own $n placeholders (cached: it
        is long, and psycopg would split a %s query of that length again on every call)."""
        if rows not in self.by_rows:
            width = len(self.types)
            marks = (
                "(" + ", ".join(f"${r * width + c + 1}::{t}" for c, t in enumerate(self.types)) + ")"
                for r in range(rows)
            )
            self.by_rows[rows] = self.sql_head + ", ".join(marks) + self.sql_tail
        return self.by_rows[rows]


def _insert_plan() -> _InsertPlan:
    """One statement for n conversions: ids drawn from the table's sequence per row, every
    row offered with ON CONFLICT DO NOTHING, and per input row (in order) its id or NULL.

    RETURNING alone cannot say which input row an id belongs to (rows without txn_id or
    dedupe_key have no natural key), hence the ids drawn first and joined back.
    """
    quote = connection.ops.quote_name
    meta = Conversion._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    names = [quote(f.column) for f in fields]
    # Casts on every value: VALUES has no column types to infer them from.
    types = ["integer", *(str(f.db_type(connection)) for f in fields)]
    table = quote(meta.db_table)
    assert meta.pk is not None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [meta.db_table, meta.pk.column])
        sequence = cursor.fetchone()[0]
    head = f"WITH v (ord, {', '.join(names)}) AS (VALUES "
    tail = (
        f"), r AS (SELECT nextval('{sequence}') AS id, v.* FROM v),"  # noqa: S608 (names from the model)
        f" ins AS (INSERT INTO {table} (id, {', '.join(names)})"
        f" SELECT id, {', '.join(names)} FROM r ON CONFLICT DO NOTHING RETURNING id)"
        " SELECT r.ord, ins.id FROM r LEFT JOIN ins ON ins.id = r.id ORDER BY r.ord"
    )
    supported: tuple[type[models.Field[Any, Any]], ...] = (
        *(models.CharField, models.BooleanField, models.ForeignKey, models.IntegerField),
        *(models.DateTimeField, models.DecimalField, models.UUIDField, models.JSONField),
    )
    for f in fields:  # a new field type must be checked against what the ORM would send
        assert isinstance(f, supported), f"group commit cannot send {f!r} yet"
        assert not isinstance(f, models.JSONField) or f.encoder is None, "custom JSON encoder"
    columns = [(f.attname, isinstance(f, models.JSONField)) for f in fields]
    return _InsertPlan(head, types, tail, columns)


_PLAN: _InsertPlan | None = None


def conversions_insert(convs: Sequence[Conversion]) -> list[int | None]:
    """Insert ``convs`` in one statement (one transaction, one round trip): each one's new id,
    or None where a unique key refused it as a duplicate. Sets ``id`` on the inserted ones."""
    global _PLAN
    if _PLAN is None:
        _PLAN = _insert_plan()
    params: list[Any] = []
    for i, conv in enumerate(convs):
        params.append(i)
        for attname, is_json in _PLAN.columns:
            value = getattr(conv, attname)
            params.append(Jsonb(value) if is_json and value is not None else value)
    conn = connections[DEFAULT_DB_ALIAS]  # once: each `connection.x` is a thread-local lookup
    # wrap_database_errors: psycopg's exceptions become django.db's, as for any ORM query, so
    # the intake's "database unavailable: 503" handling sees them.
    with conn.wrap_database_errors:
        conn.ensure_connection()
        # Server-side binding: the values travel apart from the SQL text, with no quoting
        # work on this side, and the text repeats per batch size, so psycopg prepares it.
        with psycopg.RawCursor(conn.connection) as cursor:
            cursor.execute(_PLAN.sql(len(convs)), params)
            ids: list[int | None] = [row[1] for row in cursor.fetchall()]
    for conv, new_id in zip(convs, ids, strict=True):
        if new_id is not None:
            conv.id = new_id
            conv._state.adding, conv._state.db = False, conn.alias
    return ids


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
