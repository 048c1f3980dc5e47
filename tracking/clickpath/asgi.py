"""The ASGI edge: ``/c/`` and ``/i/`` served on the event loop, everything else handed on.

Why ASGI for the click: the click's only wait is Redis acknowledging its script. In a WSGI
thread that wait is a kernel thread switch and a GIL hand-off each way, which on two cores cost
more than everything else the click does (BENCHMARKS.md). On the event loop the wait is a
suspended coroutine, and the clicks of one loop iteration share one Redis command
(``aio_redis``). The work before and after the wait is the same code as the WSGI app's and the
Django views' (``handler.click_plan`` / ``handler.click_answer``), so every path answers alike.

Nothing here may block the loop, so the rare blocking steps run in a small thread pool: a link
missing from the process cache (Redis GET, then the database), the database fallback while
Redis is down, and the spool. ``/postback`` (GET, form or JSON POST) is answered on the loop
too, by tracking/conversions/asgi.py, whose rare steps share the pool. Every other request goes
to ``app`` (config/asgi.py: Django through a2wsgi's thread pool).
"""

from __future__ import annotations

import asyncio
import functools
import gc
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from django.conf import settings
from django.db import connections

from tracking.clickpath import handler, links, redis_conn, rsgi, store
from tracking.clickpath.aio_redis import batcher_for, batchers_close
from tracking.clickpath.conf import hot
from tracking.clickpath.lean import lean_begin, lean_end
from tracking.clickpath.wsgi import visitor_databases_load

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
T = TypeVar("T")

# ASGI header names are bytes: the handlers' headers (the postback's body ones included) so.
_HEADERS = {name.encode(): key for name, key in (*handler.REQUEST_HEADERS, *handler.BODY_HEADERS)}

_pool: ThreadPoolExecutor | None = None


def _blocking_pool() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        # SQLite has one writer at a time anyway, and its in-memory test databases refuse a
        # second one outright instead of waiting: one thread there.
        threads = 1 if connections["default"].vendor == "sqlite" else settings.EDGE_BLOCKING_THREADS
        _pool = ThreadPoolExecutor(threads, thread_name_prefix="edge-blocking")
    return _pool


def blocking_pool_shutdown() -> None:
    """Close the database connections of the blocking pool's threads, then the pool (lifespan
    shutdown; tests, whose database must not be held open by idle threads)."""
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


def _lean(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    lean_begin()  # database housekeeping, as the WSGI app does per request
    try:
        return fn(*args, **kwargs)
    finally:
        lean_end()


async def blocking(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run ``fn`` in the edge's thread pool and await its result."""
    call = functools.partial(_lean, fn, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(_blocking_pool(), call)


def environ_of(scope: Scope) -> dict[str, Any]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "QUERY_STRING": scope["query_string"].decode("latin-1"),
        "REMOTE_ADDR": (scope.get("client") or ("",))[0],
        "wsgi.url_scheme": scope.get("scheme", "http"),
    }
    for name, value in scope["headers"]:
        key = _HEADERS.get(name)
        if key is not None:
            text = value.decode("latin-1")  # as a WSGI server decodes headers
            if key in environ:  # a repeated header (HTTP/2 splits cookies): joined as WSGI does
                text = environ[key] + ("; " if key == "HTTP_COOKIE" else ",") + text
            environ[key] = text
    return environ


def _script_call(script: str) -> Callable[..., Awaitable[Any]]:
    conf = hot()
    return batcher_for(conf.redis_url, script, conf.redis_timeout)


async def _click_store(plan: handler.ClickPlan) -> str:
    rec, window = plan.rec, plan.link.unique_click_window_hours
    if redis_conn.available():
        keys, args = store.click_script_call(rec, caps=plan.caps, window_hours=window, ip=plan.ip)
        try:
            return store.verdict_reason(await _script_call(store.CLICK_LUA)(keys, args))
        except redis_conn.WRITE_ERRORS as exc:
            store.redis_write_failed(exc, rec)
    return await blocking(store.click_store_without_redis, rec, caps=plan.caps, window_hours=window)


async def _link(token: str) -> links.Link | object | None:
    link = links.link_cached(token)
    if link is links.MISS:
        try:
            link = await blocking(links.link_resolve, token)
        except links.LinkUnavailable:
            return links.MISS
    return link


async def click(environ: dict[str, Any], token: str) -> handler.Response:
    link = await _link(token)
    if link is links.MISS:
        return await blocking(handler.unavailable, environ, token)
    if not isinstance(link, links.Link):
        return handler.not_found()
    plan = handler.click_plan(environ, link)
    return handler.click_answer(plan, await _click_store(plan))


async def impression(environ: dict[str, Any], token: str) -> handler.Response:
    link = await _link(token)
    if link is links.MISS:
        return handler.gif()  # an impression is not worth a spooled guess at its offer
    if not isinstance(link, links.Link):
        return handler.not_found()
    rec = handler.impression_record(environ, link)
    if redis_conn.available():
        keys, args = store.impression_script_call(rec)
        try:
            await _script_call(store.CLICK_LUA)(keys, args)
            return handler.gif()
        except redis_conn.WRITE_ERRORS as exc:
            store.redis_write_failed(exc, rec)
    await blocking(store.impression_store_without_redis, rec)
    return handler.gif()


async def answer(kind: str, environ: dict[str, Any], token: str) -> handler.Response:
    refused = handler.not_allowed(environ)
    if refused is not None:
        return refused
    try:
        if kind == "c":
            return await click(environ, token)
        return await impression(environ, token)
    except Exception:
        return handler.failed(kind, token)


async def respond(send: Send, response: handler.Response, *, head: bool) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": response.status,
            "headers": [
                (name.lower().encode(), handler.header_value(value)) for name, value in response.headers
            ],
        }
    )
    await send({"type": "http.response.body", "body": b"" if head else response.body})


async def _closing() -> None:
    from tracking.conversions.aio_db import loop_database_close  # it builds on this module

    batchers_close()
    await loop_database_close()
    await asyncio.get_running_loop().run_in_executor(None, blocking_pool_shutdown)


def _started() -> None:
    # Before the first request, so a burst does not find them half loaded.
    visitor_databases_load()
    # Everything loaded so far (Django, the geo-IP and user-agent databases) lives as long as
    # the process: take it out of the collector's view, or every full collection walks it
    # (about 60 ms, a stall for every request in flight).
    gc.freeze()


class ClickEdge:
    """Serves /c/{token}, /i/{token} and most of /postback itself; passes every other request
    to ``app``.

    An ASGI app (``__call__``) and a granian RSGI app (``__rsgi__``, what ``make serve`` runs;
    see tracking/clickpath/rsgi.py): both answer with the same code.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # Imported here: the postback module builds on this one's pool and helpers.
        from tracking.conversions import asgi as postbacks

        self.postbacks = postbacks

    async def __rsgi__(self, scope: Any, proto: Any) -> None:
        path: str = scope.path
        if scope.proto == "http" and path.startswith(("/c/", "/i/")):
            response = await answer(path[1], rsgi.environ_of(scope), path[3:])
            rsgi.respond(proto, response, head=scope.method == "HEAD")
            return
        if path == "/postback":
            environ = rsgi.environ_of(scope, body=True)
            if self.postbacks.postback_handles(environ):
                query = scope.query_string.encode("latin-1")
                outcome = await self.postbacks.postback_response(environ, query, rsgi.body_reader(proto))
                text, headers = outcome.wire()
                proto.response_bytes(outcome.http_status, headers, text)
                return
        await rsgi.asgi_from_rsgi(self.app, scope, proto)

    def __rsgi_init__(self, loop: asyncio.AbstractEventLoop) -> None:
        _started()

    def __rsgi_del__(self, loop: asyncio.AbstractEventLoop) -> None:
        loop.run_until_complete(_closing())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            path: str = scope["path"]
            if path.startswith(("/c/", "/i/")):
                environ = environ_of(scope)
                response = await answer(path[1], environ, path[3:])
                await respond(send, response, head=scope["method"] == "HEAD")
                return
            if path == "/postback":
                environ = environ_of(scope)
                if self.postbacks.postback_handles(environ):
                    await self.postbacks.postback_answer(scope, environ, receive, send)
                    return
            await self.app(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        else:
            await self.app(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                _started()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await _closing()
                await send({"type": "lifespan.shutdown.complete"})
                return
