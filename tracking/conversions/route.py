"""``/postback``: the route the edge (tracking/clickpath/edge.py) answers it with, on its event
loop. config/asgi.py hands a ``PostbackRoute`` to the edge.

Why the loop: a postback's own work is small, and in a server thread its two waits (the click
lookup and the INSERT) were thread hand-offs that cost more than the work (BENCHMARKS.md).
Here they are suspended coroutines, and the postbacks a loop serves together share one click
query and one COPY (aio_db.py).

The common postback (token, a click id the table holds, an offer without caps, no signature,
no status update) runs on the loop from the first byte to the answer, with the same decision
code as every other postback (``intake.postback_plan`` inside ``offload.OnLoop``). Everything
else runs in the edge's thread pool (clickpath/blocking.py), each step where it needs to:

- a catalog entry missing from the process cache: loaded in a thread, then decided again here;
- a conversion that takes cap room: stored in a thread (``conversion_store``: row locks, one
  transaction); a duplicate's original is looked up there too;
- a signature, a status update, a coupon, a click not (yet) in the table, first-click
  attribution, an FX rate: the whole postback in a thread (``intake.postback_receive``).

Without PostgreSQL (SQLite, the embedded default) every postback takes that last path. Any
database error answers 503, so nothing is answered 200 without its COMMIT.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import psycopg
from django.core.exceptions import SynchronousOnlyOperation
from django.db import Error as DatabaseError
from django.utils import timezone

from affiliates.core.db import db_supports_loop_connection
from tracking.clickpath.blocking import blocking
from tracking.clickpath.handler import Response
from tracking.conversions.aio_db import loop_database, loop_database_close
from tracking.conversions.intake import postback_plan, postback_receive, postback_unavailable
from tracking.conversions.offload import CatalogMiss, Offload, OnLoop
from tracking.conversions.outcome import Outcome, PostbackError
from tracking.conversions.params import (
    ConversionInput,
    body_length,
    content_type_main,
    conversion_input_parse,
    request_params,
)
from tracking.conversions.services import (
    NewConversion,
    conversion_duplicate,
    conversion_store,
    conversion_stored,
    conversion_verdict,
)
from tracking.models import Click
from tracking.visitor import client_ip

log = logging.getLogger(__name__)

# A decision reads at most offer, advertiser and standing from the catalog: one more load than
# that means the cache cannot hold them (a TTL shorter than a thread round trip).
MAX_LOADS = 4


class PostbackRoute:
    """What the edge calls for ``/postback`` (its ``Route``), whichever interface carried it."""

    async def answer(
        self, environ: dict[str, Any], query: bytes, read_body: Callable[[int], Awaitable[bytes]]
    ) -> Response:
        """``read_body(n)`` returns the request body's first ``n`` bytes (its Content-Length)."""
        outcome = await postback_response(environ, query, read_body)
        text, headers = outcome.wire()
        if outcome.http_status == 405:
            headers.append(("Allow", "GET, POST"))
        return Response(outcome.http_status, headers, text)

    async def close(self) -> None:
        await loop_database_close()


async def postback_response(
    environ: dict[str, Any], query: bytes, read_body: Callable[[int], Awaitable[bytes]]
) -> Outcome:
    try:
        method = environ["REQUEST_METHOD"]
        body = await read_body(body_length(environ.get("CONTENT_LENGTH"))) if method == "POST" else b""
        raw = request_params(
            method=method, query=query, content_type=content_type_main(environ.get("CONTENT_TYPE")), body=body
        )
    except PostbackError as refused:
        return refused.outcome()
    return await postback_receive_async(raw, ip=client_ip(environ))


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
    """PostgreSQL: asked once (a lookup in Django's per-thread connections costs more than a
    postback's own parsing; the database's vendor does not change in a process)."""
    global _native_now
    if _native_now is None:
        _native_now = db_supports_loop_connection()
    return _native_now


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
            with OnLoop():
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
        load = loads[miss.key] = asyncio.ensure_future(blocking(miss.load))
        load.add_done_callback(lambda _: loads.pop(miss.key, None))
    await asyncio.shield(load)  # a waiter that goes away must not cancel the others' load


async def _threaded(fn: Callable[..., Outcome], *args: Any, **kwargs: Any) -> Outcome:
    """``fn`` in the edge's thread pool, refusals and database errors answered as 4xx/503."""

    def call() -> Outcome:
        try:
            return fn(*args, **kwargs)
        except PostbackError as refused:
            return refused.outcome()
        except DatabaseError as exc:
            return postback_unavailable(exc)

    return await blocking(call)
