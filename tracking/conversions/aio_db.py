"""PostgreSQL for the postbacks an event loop serves: one async connection per loop, with the
click lookups and the conversion INSERTs of the postbacks in flight batched.

Why: on the ASGI edge a postback's waits are suspended coroutines, not threads. The postbacks
that arrive while the loop's previous statement is in flight queue, and the next statement
serves them all: one ``SELECT ... WHERE id = ANY($1)`` for their clicks, one multi-row
``INSERT ... ON CONFLICT DO NOTHING RETURNING id`` for their conversions (the same statement
the WSGI threads' group commit sends: group_commit.InsertPlan). The batch grows with the load
by itself, with no timer. Both statements are prepared once per connection.

Durability: the connection is in autocommit, so the INSERT is its own transaction and returns
only after its COMMIT; a caller hears of its row only then. The database still decides every
duplicate: a row refused by (offer, goal, txn_id) or ``dedupe_key`` gets no id back.

Failures: when a batch fails on a connection that still works (one poison row: a NUL byte, a
value PostgreSQL refuses), each of its items is sent again alone, so only the bad one fails.
When the connection is lost, the whole batch fails (each caller answers 503: the advertiser
retries) and the next batch connects again.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
import weakref
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import psycopg
from django.db import DEFAULT_DB_ALIAS, connections

from tracking.click_lookup import clicks_from_rows, pg_clicks_sql
from tracking.conversions.group_commit import (
    IDS_SQL,
    SEQUENCE_SQL,
    IdPool,
    insert_plan,
    inserted_apply,
    sequence_args,
)
from tracking.loop_batch import LoopBatch
from tracking.models import Click, Conversion

T = TypeVar("T")
R = TypeVar("R")
MAX_BATCH = 64  # the INSERT texts prepared per connection: one per batch size up to this


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
        await cursor.execute(plan.sql(len(convs)), plan.params(ids, convs), prepare=True)
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
    conn = await psycopg.AsyncConnection.connect(**params, autocommit=True)
    if conn.info.parameter_status("TimeZone") != wrapper.timezone_name:
        await conn.execute("SELECT set_config('TimeZone', %s, false)", [wrapper.timezone_name])
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
