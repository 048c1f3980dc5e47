"""What the edge shares with the routes it serves: the ASGI types, and the thread pool for the
few steps that block.

Nothing on the edge's event loop may block (every request of the worker waits behind it), and
Django refuses its ORM there. So the rare blocking steps of a click (a link missing from the
process cache, the database fallback while Redis is down, the spool) and of a postback (a
catalog load, a signature, a status update, SQLite) run here, ``EDGE_BLOCKING_THREADS`` at a
time, and the loop awaits them. Requests the edge does not answer itself (pages, the API, the
pixel) run in Django's own thread pool (config/asgi.py), not this one.
"""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from django.conf import settings
from django.db import connections

from affiliates.core.db import db_single_writer

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
T = TypeVar("T")

_pool: ThreadPoolExecutor | None = None


def _blocking_pool() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        threads = 1 if db_single_writer() else settings.EDGE_BLOCKING_THREADS
        _pool = ThreadPoolExecutor(threads, thread_name_prefix="edge-blocking")
    return _pool


def blocking_pool_shutdown() -> None:
    """Close the database connections of the pool's threads, then the pool (lifespan shutdown;
    tests, whose database must not be held open by idle threads)."""
    global _pool
    pool, _pool = _pool, None
    if pool is None:
        return
    # One task per thread, each held at the barrier until all have started, so every thread
    # runs exactly one of them.
    barrier = threading.Barrier(pool._max_workers)

    def close() -> None:
        barrier.wait(timeout=10)
        connections.close_all()

    for future in [pool.submit(close) for _ in range(pool._max_workers)]:
        future.result(timeout=30)
    pool.shutdown(wait=True)


def db_release() -> None:
    """What Django's ``close_old_connections`` does after a request, minus the health check it
    would arm for the next one: close a connection that errored, outlived CONN_MAX_AGE or was
    left outside autocommit. A connection that broke while idle fails its next query with a
    database error (the click falls back, the postback answers 503 and is retried) and is
    closed here, so the call after it reconnects."""
    for conn in connections.all(initialized_only=True):
        if conn.connection is None:
            continue
        if (
            conn.errors_occurred
            or (conn.close_at is not None and time.monotonic() >= conn.close_at)
            or conn.get_autocommit() != conn.settings_dict["AUTOCOMMIT"]
        ):
            conn.close()


def _released(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    try:
        return fn(*args, **kwargs)
    finally:
        db_release()


async def blocking(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run ``fn`` in the edge's thread pool, with per-request connection housekeeping, and
    await its result."""
    call = functools.partial(_released, fn, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(_blocking_pool(), call)
