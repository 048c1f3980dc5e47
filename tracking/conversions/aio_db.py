"""PostgreSQL for the postbacks an event loop serves: one async connection per loop, with the
click lookups and the conversion INSERTs of the postbacks in flight batched.

Why: on the ASGI edge a postback's waits are suspended coroutines, not threads. The postbacks
that arrive while the loop's previous statement is in flight queue, and the next statement
serves them all: one ``SELECT ... WHERE id = ANY($1)`` for their clicks (prepared once per
connection), one binary ``COPY`` for their conversions (``InsertPlan``). The batch grows with
the load by itself, with no timer.

Why COPY rather than a multi-row ``INSERT ... VALUES``: PostgreSQL builds each VALUES row's
expressions anew (a length check per varchar column, a cast per parameter), which cost it
about as much as the rest of the row's insert; COPY reads each binary value with its type's
receive function and nothing else. Its triggers, constraints and indexes are the INSERT's.

Durability: the connection is in autocommit, so the COPY is its own transaction and returns
only after its COMMIT; a caller hears of its row only then. The database still decides every
duplicate: when a unique key, (offer, goal, txn_id) or ``dedupe_key``, refuses a row, the
whole COPY is refused, and the batch is sent again as ``INSERT ... ON CONFLICT DO NOTHING
RETURNING id``: a refused row gets no id back.

Failures: when a batch fails on a connection that still works (one poison row: a NUL byte, a
value PostgreSQL refuses), each of its items is sent again alone, so only the bad one fails.
When the connection is lost, the whole batch fails (each caller answers 503: the advertiser
retries) and the next batch connects again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import operator
import os
import time
import uuid
import weakref
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import psycopg
from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from psycopg.types.json import Jsonb, set_json_dumps

from tracking.clickpath.loop_batch import LoopBatch
from tracking.conversions.click_lookup import clicks_from_rows, pg_clicks_sql
from tracking.models import Click, Conversion

T = TypeVar("T")
R = TypeVar("R")
MAX_BATCH = 64  # postbacks per click lookup and per COPY at most
PREPARE_THRESHOLD = 5  # psycopg's default (Django's None would turn prepare=True off)
# The JSON columns' text without the blanks json.dumps puts after "," and ":": PostgreSQL
# parses every byte of it into jsonb, which keeps no blanks, so the stored value is the same.
_json_compact = json.JSONEncoder(separators=(",", ":")).encode


@dataclass
class InsertPlan:
    """How ``LoopDatabase`` writes a batch of conversions: the COPY, and the INSERT that sends
    the batch again when a unique key refused a row of it."""

    table: str
    names: list[str]
    # Per column: the attribute, and whether it is JSON (sent as jsonb, as Django's JSONField
    # sends it); psycopg adapts every other value as it is, which is what Django's PostgreSQL
    # backend does for these field types too (aware datetimes, Decimals, strings, ints).
    columns: list[tuple[str, bool]]
    # Per column, id first: the PostgreSQL type's oid, which a binary COPY must be told.
    types: list[int] = field(default_factory=list)
    by_rows: dict[int, str] = field(default_factory=dict)
    _values: Callable[[dict[str, Any]], tuple[Any, ...]] | None = field(default=None, init=False, repr=False)
    _json_at: list[int] = field(default_factory=list, init=False, repr=False)

    def copy_sql(self) -> str:
        return f"COPY {self.table} (id, {', '.join(self.names)}) FROM STDIN (FORMAT BINARY)"

    def sql(self, rows: int) -> str:
        """The batch sent again after a unique key refused a row of it: ``INSERT ... VALUES
        ... ON CONFLICT DO NOTHING RETURNING id`` for ``rows`` rows, with PostgreSQL's own $n
        placeholders (cached: it is long, and psycopg would split a %s query of that length
        again on every call)."""
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

    def rows(self, ids: Sequence[int], convs: Sequence[Conversion]) -> list[tuple[Any, ...]]:
        """Each conversion's values for the COPY, its id first. JSON values go as they are:
        the COPY's jsonb type dumps them (compactly: ``LoopDatabase`` connects so)."""
        return [(conv_id, *self._row(conv)) for conv_id, conv in zip(ids, convs, strict=True)]

    def params(self, ids: Sequence[int], convs: Sequence[Conversion]) -> list[Any]:
        """The INSERT's parameters: every row's values, one after the other."""
        params: list[Any] = []
        for conv_id, conv in zip(ids, convs, strict=True):
            row = list(self._row(conv))
            for i in self._json_at:
                if row[i] is not None:
                    row[i] = Jsonb(row[i], _json_compact)
            params.append(conv_id)
            params += row
        return params

    def _row(self, conv: Conversion) -> tuple[Any, ...]:
        # Read from the instance's __dict__ in one C call: the columns are its concrete fields,
        # which every instance built for a postback holds (a deferred one would not: getattr).
        if self._values is None:
            self._values = operator.itemgetter(*(attname for attname, _ in self.columns))
            self._json_at = [i for i, (_, is_json) in enumerate(self.columns) if is_json]
        try:
            return self._values(conv.__dict__)
        except KeyError:
            return tuple(getattr(conv, attname) for attname, _ in self.columns)


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
            assert isinstance(f, supported), f"the batch INSERT cannot send {f!r} yet"
            assert not isinstance(f, models.JSONField) or f.encoder is None, "custom JSON encoder"
        assert meta.pk is not None
        _PLAN = InsertPlan(
            table=quote(meta.db_table),
            names=[quote(f.column) for f in fields],
            columns=[(f.attname, isinstance(f, models.JSONField)) for f in fields],
            types=[_type_oid(f) for f in [meta.pk, *fields]],
        )
    return _PLAN


def _type_oid(f: models.Field[Any, Any]) -> int:
    """The column's type as psycopg knows it: ``varchar(16)`` -> varchar's oid."""
    db_type = f.db_type(connection)
    assert db_type is not None, f"{f!r} has no column type"
    oid = psycopg.adapters.types.get_oid(db_type.split("(")[0].strip())
    assert isinstance(oid, int), f"psycopg does not know {db_type!r}"
    return oid


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

    # A draw is a statement of its own; at 64 ids it was one in five of the statements the
    # postbacks sent. Ids a worker drew and never used leave a gap, as a rolled-back INSERT does.
    BLOCK = 1024

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


def _alone_on_failure(db: LoopDatabase, flush: Callable[[Sequence[T]], Awaitable[list[R]]]) -> Any:
    """When a batch fails on a connection that still works, send each item again on its own,
    so only the item at fault fails (a lost connection fails the whole batch)."""

    async def failed(items: Sequence[T], error: Exception) -> list[R | BaseException]:
        if len(items) == 1 or db.lost():
            raise error
        out: list[R | BaseException] = []
        for item in items:
            try:
                out.extend(await flush([item]))
            except Exception as exc:
                out.append(exc)
        return out

    return failed


def _batch(db: LoopDatabase, flush: Callable[[Sequence[T]], Awaitable[list[R]]]) -> LoopBatch[T, R]:
    return LoopBatch(flush, max_batch=MAX_BATCH, failed=_alone_on_failure(db, flush))  # type: ignore[arg-type]


class LoopDatabase:
    """One event loop's connection and batchers (``loop_database()``)."""

    def __init__(self) -> None:
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._close_at: float | None = None
        self._connecting = asyncio.Lock()
        self._ids = IdPool()
        self._sequence: str | None = None
        self.clicks: LoopBatch[uuid.UUID, Click | None] = _batch(self, self._clicks_fetch)
        self.inserts: LoopBatch[Conversion, int | None] = _batch(self, self._conversions_insert)

    def lost(self) -> bool:
        return self._conn is None or self._conn.closed or self._conn.broken

    async def connection(self) -> psycopg.AsyncConnection[Any]:
        async with self._connecting:
            if self.lost() or (self._close_at is not None and time.monotonic() >= self._close_at):
                await self.close()
                self._conn, max_age = await _connect()
                # Replaced after DB_CONN_MAX_AGE seconds, as Django replaces its own (between
                # batches; 0, "a new one per request", would mean one per batch: kept instead).
                self._close_at = time.monotonic() + max_age if max_age else None
            assert self._conn is not None
            return self._conn

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.closed:
            with contextlib.suppress(psycopg.Error):
                await conn.close()

    async def _clicks_fetch(self, click_ids: Sequence[uuid.UUID]) -> list[Click | None]:
        """The stored clicks, in order; None where the table has none (the caller then asks
        Redis and the table again, in a thread: click_lookup.clicks_find)."""
        conn = await self.connection()
        cursor = psycopg.AsyncRawCursor(conn)
        await cursor.execute(pg_clicks_sql(), [list(click_ids)], binary=True, prepare=True)
        found = clicks_from_rows(await cursor.fetchall())
        return [found.get(click_id) for click_id in click_ids]

    async def _conversions_insert(self, convs: Sequence[Conversion]) -> list[int | None]:
        plan = insert_plan()
        conn = await self.connection()
        cursor = psycopg.AsyncRawCursor(conn)
        ids = await self._ids_take(len(convs), cursor)
        try:
            async with cursor.copy(plan.copy_sql()) as copy:
                copy.set_types(plan.types)
                for row in plan.rows(ids, convs):
                    await copy.write_row(row)
            inserted = set(ids)
        except psycopg.errors.UniqueViolation:
            # Rare (a retry, a second conversion of a click), so the common batch does not pay
            # for ON CONFLICT: with it PostgreSQL probes every unique index before each row and
            # inserts it speculatively. The same rows again, then: the keys let in what they let in.
            params = plan.params(ids, convs)
            await cursor.execute(plan.sql(len(convs)), params, prepare=False)
            inserted = {row[0] for row in await cursor.fetchall()}
        return inserted_apply(ids, convs, inserted, DEFAULT_DB_ALIAS)

    async def _ids_take(self, n: int, cursor: psycopg.AsyncRawCursor[Any]) -> list[int]:
        need = self._ids.shortfall(n)
        if need:
            if self._sequence is None:
                await cursor.execute(SEQUENCE_SQL, sequence_args())
                self._sequence = (await cursor.fetchone())[0]  # type: ignore[index]
            await cursor.execute(IDS_SQL, [self._sequence, need], prepare=True)
            self._ids.add([row[0] for row in await cursor.fetchall()])
        return self._ids.take(n)


async def _connect() -> tuple[psycopg.AsyncConnection[Any], float | None]:
    """A connection like Django's own (same settings, adapters, UTC), but async and in
    autocommit, and its CONN_MAX_AGE. Read per connect, so a test that repoints the database
    is followed."""
    wrapper = connections[DEFAULT_DB_ALIAS]  # settings only: nothing here touches its connection
    params = wrapper.get_connection_params()
    params.pop("cursor_factory", None)  # Django's sync cursor classes
    # Django passes prepare_threshold=None (it prepares nothing), and with None psycopg ignores
    # ``prepare=True`` too: every batch's statement was parsed, analysed and planned again,
    # about a third of PostgreSQL's work per postback. psycopg's own default instead; the
    # statements here ask for preparation by name, nothing else is prepared before its 5th use.
    params["prepare_threshold"] = PREPARE_THRESHOLD
    conn = await psycopg.AsyncConnection.connect(**params, autocommit=True)
    if conn.info.parameter_status("TimeZone") != wrapper.timezone_name:
        await conn.execute("SELECT set_config('TimeZone', %s, false)", [wrapper.timezone_name])
    # Each statement here has one plan whatever its values (an index scan by primary key, a
    # VALUES list); PostgreSQL would plan each text's first five executions again for them.
    await conn.execute("SET plan_cache_mode = force_generic_plan")
    set_json_dumps(_json_compact, context=conn)  # the COPY's jsonb values (InsertPlan.rows)
    return conn, wrapper.settings_dict.get("CONN_MAX_AGE")


_databases: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopDatabase] = weakref.WeakKeyDictionary()


def loop_database() -> LoopDatabase:
    """The running loop's database: a loop's connection cannot serve another loop."""
    loop = asyncio.get_running_loop()
    db = _databases.get(loop)
    if db is None:
        db = _databases[loop] = LoopDatabase()
    return db


async def loop_database_close() -> None:
    """Close the running loop's connection (the edge's lifespan shutdown, tests)."""
    db = _databases.pop(asyncio.get_running_loop(), None)
    if db is not None:
        await db.close()
