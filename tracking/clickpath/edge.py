"""The edge: the one app server entry point. Clicks, impressions and postbacks are answered on
the event loop; every other request is passed to Django (config/asgi.py wires it).

A click, from the socket to PostgreSQL:

1. granian (``make serve``, ``make run``) calls ``Edge.__rsgi__`` (or ``__call__`` under an ASGI
   server or the tests' in-process client) with ``/c/{token}``.
2. ``links.link_cached`` finds the link snapshot in the process cache (a miss is read from Redis,
   then the database, in the thread pool: blocking.py).
3. ``handler.click_plan`` builds the record and runs the checks before caps (rules.py).
4. ``click`` sends ``store.click_lua()`` through ``aio_redis``: one Redis command for the
   clicks of one loop iteration, which checks caps atomically and appends the record to the
   stream. Redis down: ``store.click_store_without_redis`` writes the row in a thread (the
   database, or the spool when that is down too). A smart link's click first takes one of its
   paths (smart.py), then goes on as a click on that path's link.
5. ``handler.click_answer`` builds the 302; the visitor is answered. Only now: a click that no
   store took (the spool cannot write either) gets ``handler.not_stored``, a 503, never a 302.
6. ``consumer.py`` (``make worker``) reads the stream and COPYs the rows into PostgreSQL
   (``writer.lines_write``).

Why the event loop: the click's only wait is Redis acknowledging its script. In a WSGI thread
that wait is a kernel thread switch and a GIL hand-off each way, which on two cores cost more
than everything else the click does (BENCHMARKS.md). Why RSGI: ASGI answers with two awaited
``send`` messages, each a trip through the server's Rust-to-Python future machinery; RSGI takes
the whole response in one plain call. Both interfaces answer with the same code below.

The click API (``POST /api/v1/clicks/``, a Django view) runs this same ``click`` with a JSON
answer in place of the 302 (server_clicks.py). The Host header picks which links a request may
reach (custom tracking domains, hosts.py); a domain's ``/.well-known/affnet-tracking-domain``
token is answered here too, before Django's ALLOWED_HOSTS would refuse the host.

``/postback`` goes to the route config/asgi.py hands in (tracking/conversions/route.py), so this
package does not import the conversions code that builds on it.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from tracking.clickpath import handler, hosts, links, policy, redis_conn, spool, store
from tracking.clickpath.aio_redis import ScriptBatcher, batcher_for, batchers_close
from tracking.clickpath.blocking import ASGIApp, Receive, Scope, Send, blocking, blocking_pool_shutdown
from tracking.clickpath.conf import HotSettings, hot
from tracking.visitor import network_for_ip, ua_facts

log = logging.getLogger(__name__)
BodyReader = Callable[[int], Awaitable[bytes]]


class Route(Protocol):
    """A path the edge answers with someone else's code (the postback)."""

    async def answer(self, environ: dict[str, Any], query: bytes, read_body: BodyReader) -> handler.Response:
        """``read_body(n)`` returns the request body's first ``n`` bytes."""

    async def close(self) -> None:
        """Release the running loop's connections (shutdown)."""


# --- The click and the impression -------------------------------------------------------------


def _script_call(script: str) -> ScriptBatcher:
    conf = hot()
    return batcher_for(conf.redis_url, script, conf.redis_timeout)


# The click script's batcher for the running loop and the current settings: every click asks,
# and finding it through the settings, the script text and the loop's registry (batcher_for)
# cost a click three Python calls.
_clicks: tuple[HotSettings, asyncio.AbstractEventLoop, ScriptBatcher] | None = None


def _click_batcher(conf: HotSettings) -> ScriptBatcher:
    global _clicks
    loop = asyncio.get_running_loop()
    last = _clicks
    if last is not None and last[0] is conf and last[1] is loop and not last[2].closed:
        return last[2]
    found = batcher_for(conf.redis_url, store.click_lua(), conf.redis_timeout)
    _clicks = (conf, loop, found)
    return found


async def _link(token: str) -> links.Snapshot | object | None:
    link = links.link_cached(token)
    if link is links.MISS:
        try:
            link = await blocking(links.link_resolve, token)
        except links.LinkUnavailable:
            return links.MISS
    return link


async def well_known(environ: dict[str, Any]) -> handler.Response:
    """A tracking domain's verification token (affiliates/tracking_domains.py), on its host."""
    if hosts.hosts_due():
        await blocking(hosts.hosts_load)
    token = hosts.well_known_token(environ)
    if token is None:
        return handler.not_found()
    return handler.Response(200, [("Content-Type", "text/plain"), handler.NO_STORE], token.encode())


async def click(
    environ: dict[str, Any],
    token: str,
    answer: Callable[[handler.ClickPlan, str], handler.Response] = handler.click_answer,
) -> handler.Response:
    """``answer``: the 302 (handler.click_answer), or the click API's JSON (server_clicks.py);
    everything before it is the one click path either way."""
    # The process's cache nearly always has the link (and the policy is nearly always fresh):
    # asked without awaiting, so the usual click pays no coroutine for either.
    link = links.link_cached(token)
    if link is links.MISS:
        link = await _link(token)
        if link is links.MISS:
            return await blocking(handler.unavailable, environ, token)
    if hosts.hosts_due():  # tracking domains (hosts.py), reloaded every few seconds
        await blocking(hosts.hosts_load)
    if not isinstance(link, links.SNAPSHOTS) or not hosts.host_serves(environ, link):
        return handler.not_found()
    if policy.policy_due():  # negative lists and frequency caps, reloaded every few seconds
        await policy.policy_ensure()
    plan = handler.click_plan(environ, link)
    if plan is None:  # a smart link without any path
        return handler.not_found()
    # The durable write (written out here, not in a coroutine of its own: each coroutine a click
    # passes through costs it a frame on every suspension and resumption).
    rec, window = plan.rec, plan.link.unique_click_window_hours
    final: str | None = None
    conf = hot()
    if conf.redis_url and redis_conn.breaker_closed():
        keys, args = store.click_script_call(
            rec, caps=plan.caps, window_hours=window, ip=plan.ip, freq=plan.freq, visitor=plan.visitor
        )
        try:
            final = store.verdict_reason(await _click_batcher(conf).submit(keys, args))
        except redis_conn.WRITE_ERRORS as exc:
            store.redis_write_failed(exc, rec)
    if final is None:
        try:
            final = await blocking(store.click_store_without_redis, rec, caps=plan.caps, window_hours=window)
        except spool.SpoolUnavailable:
            # No store took the click: it is not answered with its id (a 302 means recorded).
            log.error("click %s not recorded: Redis, the database and the spool all failed", rec["id"])
            return handler.not_stored()
    return answer(plan, final)


async def impression(environ: dict[str, Any], token: str) -> handler.Response:
    link = await _link(token)
    if link is links.MISS:
        return handler.gif()  # an impression is not worth a spooled guess at its offer
    if hosts.hosts_due():  # tracking domains (hosts.py), reloaded every few seconds
        await blocking(hosts.hosts_load)
    if not isinstance(link, links.SNAPSHOTS) or not hosts.host_serves(environ, link):
        return handler.not_found()
    rec, ip, offer_link = handler.impression_record(environ, link)
    window = offer_link.unique_click_window_hours
    if redis_conn.available():
        keys, args = store.impression_script_call(rec, window_hours=window, ip=ip)
        try:
            await _script_call(store.click_lua())(keys, args)
            return handler.gif()
        except redis_conn.WRITE_ERRORS as exc:
            store.redis_write_failed(exc, rec)
    await blocking(store.impression_store_without_redis, rec, window_hours=window)
    return handler.gif()


async def traffic_answer(kind: str, environ: dict[str, Any], token: str) -> handler.Response:
    """``kind`` "c" (click) or "i" (impression)."""
    refused = handler.not_allowed(environ)
    if refused is not None:
        return refused
    try:
        if kind == "c":
            return await click(environ, token)
        return await impression(environ, token)
    except Exception:
        return handler.failed(kind, token)


# --- ASGI ---------------------------------------------------------------------------------------

# ASGI header names are bytes: the handlers' headers (the postback's body ones included) so.
_HEADERS = {name.encode(): key for name, key in (*handler.REQUEST_HEADERS, *handler.BODY_HEADERS)}


def asgi_environ(scope: Scope) -> dict[str, Any]:
    """The WSGI-style environ the handlers read, from an ASGI scope."""
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


def asgi_body_reader(receive: Receive) -> BodyReader:
    """``read(n)``: the body's first ``n`` bytes (its Content-Length; none without one)."""

    async def read(length: int) -> bytes:
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

    return read


async def asgi_respond(send: Send, response: handler.Response, *, head: bool) -> None:
    headers = [(name.lower().encode(), handler.header_value(value)) for name, value in response.headers]
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else response.body})


# --- RSGI (granian's interface; its scope and protocol objects are duck-typed here) --------------


def host_port(address: str) -> tuple[str, int]:
    """``"203.0.113.9:5123"`` or ``"[2001:db8::1]:5123"`` -> (host, port)."""
    host, _, port = address.rpartition(":")
    if host.startswith("["):
        host = host[1:-1]
    return host, int(port or 0)


def _client_host(address: str) -> str:
    """host_port's host alone: every click asks, and the port is never read."""
    host = address.rpartition(":")[0]
    return host[1:-1] if host.startswith("[") else host


_WITH_BODY = (*handler.REQUEST_HEADERS, *handler.BODY_HEADERS)


def rsgi_environ(scope: Any, *, body: bool = False) -> dict[str, Any]:
    """The WSGI-style environ the handlers read; ``body``: with the body's headers too (the
    postback's; a click has no body)."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope.method,
        "QUERY_STRING": scope.query_string,
        "REMOTE_ADDR": _client_host(scope.client),
        "wsgi.url_scheme": scope.scheme,
    }
    headers = scope.headers
    for name, key in _WITH_BODY if body else handler.REQUEST_HEADERS:
        value = headers.get(name)
        if value is not None:
            environ[key] = value
    return environ


def rsgi_body_reader(proto: Any) -> BodyReader:
    """``read(n)``: the body's first ``n`` bytes; nothing is read when ``n`` is 0, so a body
    sent without a Content-Length is never buffered."""

    async def read(length: int) -> bytes:
        if length <= 0:
            return b""
        data: bytes = await proto()
        return data[:length]

    return read


def rsgi_respond(proto: Any, response: handler.Response, *, head: bool) -> None:
    # RSGI takes str headers: ASCII values (nearly always all of them) go as they are, in the
    # response's own list; only a non-ASCII one makes a copy, with that value as the wire has it.
    headers = response.headers
    for _, value in headers:
        if not value.isascii():
            headers = [
                (name, value if value.isascii() else handler.header_value(value).decode("latin-1"))
                for name, value in headers
            ]
            break
    proto.response_bytes(response.status, headers, b"" if head else response.body)


class _Exchange:
    """One request's ASGI ``receive`` and ``send`` over RSGI's protocol object.

    a2wsgi sends every WSGI response as chunks with ``more_body`` set, then an empty last one, so
    the first chunk is held until the next message says whether more follow: a body that ends
    there (every plain ``HttpResponse``, an empty redirect) is answered whole by
    ``response_bytes``, with its Content-Length; only a body of several chunks
    (``StreamingHttpResponse``, ``FileResponse``) is streamed. granian ends a stream when its
    transport object is freed, not when the app returns: the exchange drops it on the last chunk,
    since anything that keeps the exchange alive (Django's request holds ``receive`` in its
    environ, in reference cycles only the collector frees) would keep the response open.
    """

    def __init__(self, proto: Any, body: bytes) -> None:
        self.proto, self.body = proto, body
        self.body_sent = False
        self.status = 500
        self.headers: list[tuple[str, str]] = []
        self.started = False
        self.finished = False
        self.held: bytes | None = None
        self.stream: Any = None

    async def receive(self) -> dict[str, Any]:
        if not self.body_sent:
            self.body_sent = True
            return {"type": "http.request", "body": self.body, "more_body": False}
        await self.proto.client_disconnect()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status, self.started = message["status"], True
            self.headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", ())]
            return
        if message["type"] != "http.response.body" or self.finished:
            return
        chunk, more = bytes(message.get("body", b"")), message.get("more_body", False)
        if self.stream is None:
            if not more:  # the body ends here: answered whole
                self.proto.response_bytes(self.status, self.headers, (self.held or b"") + chunk)
                self.finished, self.held = True, None
                return
            if self.held is None:
                self.held = chunk
                return
            self.stream = self.proto.response_stream(self.status, self.headers)
            chunk, self.held = self.held + chunk, None
        if chunk:
            await self.stream.send_bytes(chunk)
        if not more:
            self.end()

    def end(self) -> None:
        """The answer is complete: a held first chunk is sent and a stream is ended."""
        if self.finished or not self.started:
            return
        if self.stream is None:
            self.proto.response_bytes(self.status, self.headers, self.held or b"")
        self.finished, self.held, self.stream = True, None, None


async def asgi_from_rsgi(app: ASGIApp, scope: Any, proto: Any) -> None:
    """Serve one RSGI request with an ASGI app (the body is read whole first: Django reads it
    whole anyway, up to DATA_UPLOAD_MAX_MEMORY_SIZE)."""
    body = await proto()
    asgi_scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": scope.http_version,
        "method": scope.method,
        "scheme": scope.scheme,
        "path": scope.path,
        "raw_path": scope.path.encode(),
        "query_string": scope.query_string.encode("latin-1"),
        "root_path": "",
        "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in scope.headers.items()],
        "client": host_port(scope.client),
        "server": host_port(scope.server),
    }
    exchange = _Exchange(proto, body)
    try:
        await app(asgi_scope, exchange.receive, exchange.send)
    except Exception:
        log.exception("%s %s failed", scope.method, scope.path)
    if not exchange.started:
        # The app failed before answering: an empty 500 rather than a dropped connection.
        proto.response_empty(500, [])
    # An app that returned (or failed) mid-body: what it sent is the answer, and the stream ends.
    exchange.end()


# --- The app ------------------------------------------------------------------------------------


def visitor_databases_load() -> None:
    """Load the geo-IP, user-agent and crawler databases now, once, before the first request:
    loaded lazily, the first burst of clicks waited seconds for them."""
    network_for_ip("8.8.8.8")
    ua_facts("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36")


def _started() -> None:
    visitor_databases_load()
    # Everything loaded so far (Django, the geo-IP and user-agent databases) lives as long as
    # the process: take it out of the collector's view, or every full collection walks it
    # (about 60 ms, a stall for every request in flight).
    gc.freeze()


class Edge:
    """Serves /c/{token}, /i/{token} and (through ``postback``) /postback on the event loop;
    passes every other request to ``app`` (Django, in its thread pool).

    An ASGI app (``__call__``) and a granian RSGI app (``__rsgi__``, what ``make serve`` and
    ``make run`` run): both answer with the same code.
    """

    def __init__(self, app: ASGIApp, *, postback: Route) -> None:
        self.app, self.postback = app, postback

    async def __rsgi__(self, scope: Any, proto: Any) -> None:
        path: str = scope.path
        if path.startswith("/c/") and scope.proto == "http":
            # traffic_answer, written out for the click (the edge's busiest request): one
            # coroutine less on its way to the durable write and back.
            environ, token = rsgi_environ(scope), path[3:]
            response = handler.not_allowed(environ)
            if response is None:
                try:
                    response = await click(environ, token)
                except Exception:
                    response = handler.failed("c", token)
            rsgi_respond(proto, response, head=scope.method == "HEAD")
        elif scope.proto == "http" and path.startswith("/i/"):
            response = await traffic_answer(path[1], rsgi_environ(scope), path[3:])
            rsgi_respond(proto, response, head=scope.method == "HEAD")
        elif scope.proto == "http" and path == "/postback":
            environ, query = rsgi_environ(scope, body=True), scope.query_string.encode("latin-1")
            response = await self.postback.answer(environ, query, rsgi_body_reader(proto))
            rsgi_respond(proto, response, head=scope.method == "HEAD")
        elif scope.proto == "http" and path == hosts.WELL_KNOWN:
            rsgi_respond(proto, await well_known(rsgi_environ(scope)), head=scope.method == "HEAD")
        else:
            await asgi_from_rsgi(self.app, scope, proto)

    def __rsgi_init__(self, loop: asyncio.AbstractEventLoop) -> None:
        _started()

    def __rsgi_del__(self, loop: asyncio.AbstractEventLoop) -> None:
        loop.run_until_complete(self.closing())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        path: str = scope.get("path", "")
        if kind == "http" and path.startswith(("/c/", "/i/")):
            response = await traffic_answer(path[1], asgi_environ(scope), path[3:])
            await asgi_respond(send, response, head=scope["method"] == "HEAD")
        elif kind == "http" and path == "/postback":
            reader = asgi_body_reader(receive)
            response = await self.postback.answer(asgi_environ(scope), scope["query_string"], reader)
            await asgi_respond(send, response, head=scope["method"] == "HEAD")
        elif kind == "http" and path == hosts.WELL_KNOWN:
            await asgi_respond(send, await well_known(asgi_environ(scope)), head=scope["method"] == "HEAD")
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        else:
            await self.app(scope, receive, send)

    async def closing(self) -> None:
        """Close the running loop's Redis and database connections, then the thread pool."""
        batchers_close()
        await self.postback.close()
        await asyncio.get_running_loop().run_in_executor(None, blocking_pool_shutdown)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                _started()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.closing()
                await send({"type": "lifespan.shutdown.complete"})
                return
