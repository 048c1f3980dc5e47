"""``/postback`` on the ASGI edge's event loop (tracking/clickpath/asgi.py routes it here).

Why: a postback's own work is small, and in a WSGI thread its two waits (the click lookup and
the INSERT, each shared with other threads through a leader/follower group commit) were thread
hand-offs that cost more than the work (BENCHMARKS.md). Here they are suspended coroutines,
and the postbacks a loop serves together share one click query and one INSERT (aio_db.py).

The common postback (token, a click id the table holds, an offer without caps, no signature,
no status update) runs on the loop from the first byte to the answer: the same parsing as the
WSGI app, the same decision code as every path (``intake.postback_plan`` inside
``offload.on_loop``), and the same answers. Everything else runs the WSGI app's code in the
edge's thread pool, each step where it needs to:

- a catalog entry missing from the process cache: loaded in a thread, then decided again here;
- a conversion that takes cap room: stored in a thread (``conversion_store``: row locks, one
  transaction); a duplicate's original is looked up there too;
- a signature, a status update, a coupon, a click not (yet) in the table, first-click
  attribution, an FX rate: the whole postback in a thread (``intake.postback_receive``).

Without PostgreSQL (SQLite), or with POSTBACK_GROUP_COMMIT off, every postback takes that last
path. Any database error answers 503, so nothing is answered 200 without its COMMIT.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

import psycopg
from django.conf import settings
from django.core.exceptions import SynchronousOnlyOperation
from django.core.signals import setting_changed
from django.db import DEFAULT_DB_ALIAS, connections
from django.db import Error as DatabaseError
from django.dispatch import receiver
from django.utils import timezone

from tracking.clickpath.asgi import Receive, Scope, Send, blocking
from tracking.conversions.aio_db import loop_database, loop_database_close
from tracking.conversions.intake import postback_plan, postback_receive, postback_unavailable
from tracking.conversions.offload import CatalogMiss, Offload, on_loop
from tracking.conversions.outcome import Outcome, PostbackError
from tracking.conversions.params import (
    ConversionInput,
    body_length,
    content_type_main,
    conversion_input_parse,
    lean_handles,
    request_params,
)
from tracking.conversions.services import (
    NewConversion,
    conversion_duplicate,
    conversion_store,
    conversion_stored,
    conversion_verdict,
)
from tracking.conversions.wsgi import db_release
from tracking.models import Click
from tracking.visitor import client_ip

log = logging.getLogger(__name__)
T = TypeVar("T")
__all__ = [
    "loop_database_close",
    "postback_answer",
    "postback_handles",
    "postback_receive_async",
    "postback_response",
]

# A decision reads at most offer, advertiser and standing from the catalog: one more load than
# that means the cache cannot hold them (a TTL shorter than a thread round trip).
MAX_LOADS = 4


def postback_handles(environ: dict[str, Any]) -> bool:
    """True when this module answers the request exactly as the Django view would."""
    return lean_handles(environ["REQUEST_METHOD"], content_type_main(environ.get("CONTENT_TYPE")))


async def postback_response(
    environ: dict[str, Any], query: bytes, read_body: Callable[[int], Awaitable[bytes]]
) -> Outcome:
    """The answer to one postback, whichever interface carried it: ``read_body(n)`` returns
    the request body's first ``n`` bytes (its declared Content-Length)."""
    try:
        method = environ["REQUEST_METHOD"]
        body = await read_body(body_length(environ.get("CONTENT_LENGTH"))) if method == "POST" else b""
        raw = request_params(
            method=method, query=query, content_type=content_type_main(environ.get("CONTENT_TYPE")), body=body
        )
    except PostbackError as refused:
        outcome = refused.outcome()
    else:
        outcome = await postback_receive_async(raw, ip=client_ip(environ))
    return outcome


async def postback_answer(scope: Scope, environ: dict[str, Any], receive: Receive, send: Send) -> None:
    """The ASGI interface's postback."""

    async def read_body(length: int) -> bytes:
        return await _body(receive, length)

    outcome = await postback_response(environ, scope["query_string"], read_body)
    text, headers = outcome.wire()
    wire_headers = [(k.lower().encode(), v.encode()) for k, v in headers]
    await send({"type": "http.response.start", "status": outcome.http_status, "headers": wire_headers})
    await send({"type": "http.response.body", "body": text})


async def _body(receive: Receive, length: int) -> bytes:
    """The body as the WSGI app reads it: Content-Length bytes (none without the header)."""
    chunks, size = [], 0
    while size < length:
        message = await receive()
        if message["type"] != "http.request":  # the client left; nobody reads the answer
            break
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if not message.get("more_body", False):
            break
    return b"".join(chunks)[:length]


async def postback_receive_async(raw: dict[str, str], *, ip: str, now: datetime | None = None) -> Outcome:
    """Answer one postback: ``intake.postback_receive``'s answer, without blocking the loop."""
    now = now or timezone.now()
    if not _native():
        return await _threaded(postback_receive, raw, ip=ip, now=now)
    try:
        return await _on_the_loop(conversion_input_parse(raw), ip=ip, now=now)
    except PostbackError as refused:
        return refused.outcome()
    except (psycopg.Error, DatabaseError) as exc:
        return postback_unavailable(exc)
    except Offload:
        pass
    except SynchronousOnlyOperation:  # a blocking read without its offload guard: a bug, not a 500
        log.exception("a postback step touched the ORM on the event loop")
    return await _threaded(postback_receive, raw, ip=ip, now=now)


_native_now: bool | None = None


def _native() -> bool:
    """PostgreSQL and POSTBACK_GROUP_COMMIT: read once (a lookup in Django's per-thread
    connections costs more than a postback's own parsing); tests that change a setting reset it."""
    global _native_now
    if _native_now is None:
        _native_now = settings.POSTBACK_GROUP_COMMIT and connections[DEFAULT_DB_ALIAS].vendor == "postgresql"
    return _native_now


@receiver(setting_changed)
def _forget(**kwargs: Any) -> None:
    global _native_now
    _native_now = None


async def _on_the_loop(inp: ConversionInput, *, ip: str, now: datetime) -> Outcome:
    if inp.click_id is None or inp.sig or (inp.txn_id and inp.status):
        raise Offload("no click id of ours, a signature or a status update")
    db = loop_database()
    click = await db.clicks(inp.click_id)
    if click is None:
        raise Offload("the click is not in the table: maybe still in Redis")
    planned = await _decided(inp, click, ip=ip, now=now)
    if isinstance(planned, Outcome):
        return planned
    if planned.needs_transaction:
        return await _threaded(conversion_store, planned)
    conversion_verdict(planned.conv)
    if await db.inserts(planned.conv) is None:  # a unique key refused it
        return await _threaded(conversion_duplicate, planned.conv)
    return conversion_stored(planned.conv)


async def _decided(inp: ConversionInput, click: Click, *, ip: str, now: datetime) -> Outcome | NewConversion:
    for _ in range(MAX_LOADS):
        try:
            with on_loop():
                return postback_plan(inp, click=click, ip=ip, now=now)
        except CatalogMiss as miss:
            await _loaded(miss)
    raise Offload("the catalog cache does not keep what was loaded")


# Per loop: the catalog loads in flight. When an entry expires under load, every postback in
# flight misses it at once; they wait for one load instead of each sending its own.
_Loads = dict[tuple[str, object], "asyncio.Future[Any]"]
_loading: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Loads] = weakref.WeakKeyDictionary()


async def _loaded(miss: CatalogMiss) -> None:
    loads = _loading.setdefault(asyncio.get_running_loop(), {})
    load = loads.get(miss.key)
    if load is None:
        load = loads[miss.key] = asyncio.ensure_future(blocking(_released, miss.load))
        load.add_done_callback(lambda _: loads.pop(miss.key, None))
    await asyncio.shield(load)  # a waiter that goes away must not cancel the others' load


async def _threaded(fn: Callable[..., Outcome], *args: Any, **kwargs: Any) -> Outcome:
    """``fn`` in the edge's thread pool, answering 4xx/503 as the WSGI app would."""

    def call() -> Outcome:
        try:
            return fn(*args, **kwargs)
        except PostbackError as refused:
            return refused.outcome()
        except DatabaseError as exc:
            return postback_unavailable(exc)

    return await blocking(_released, call)


def _released(fn: Callable[[], T]) -> T:
    """Run ``fn`` in a pool thread with the WSGI app's per-request connection housekeeping."""
    try:
        return fn()
    finally:
        db_release()
