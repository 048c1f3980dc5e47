"""granian's RSGI interface for the edge: the click's request in, its response out, and an
RSGI-to-ASGI bridge for every request the edge passes on.

Why RSGI: ASGI answers with two awaited ``send`` messages, each a trip through the server's
Rust-to-Python future machinery; RSGI takes the whole response in one plain call. On the click
path that is about a tenth of the app server's time per click (BENCHMARKS.md), so ``make serve``
runs granian's RSGI interface. Everything that is not answered on the loop still goes to the
same ASGI app as under an ASGI server (a2wsgi, then Django), through ``asgi_from_rsgi``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from tracking.clickpath import handler

log = logging.getLogger(__name__)
Scope = Any  # granian's RSGI Scope and HTTP protocol objects (granian.rsgi), duck-typed here
Proto = Any


def host_port(address: str) -> tuple[str, int]:
    """``"203.0.113.9:5123"`` or ``"[2001:db8::1]:5123"`` -> (host, port)."""
    host, _, port = address.rpartition(":")
    if host.startswith("["):
        host = host[1:-1]
    return host, int(port or 0)


_WITH_BODY = (*handler.REQUEST_HEADERS, *handler.BODY_HEADERS)


def environ_of(scope: Scope, *, body: bool = False) -> dict[str, Any]:
    """The WSGI-style environ the handlers read; ``body``: with the body's headers too (the
    postback's; a click has no body)."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope.method,
        "QUERY_STRING": scope.query_string,
        "REMOTE_ADDR": host_port(scope.client)[0],
        "wsgi.url_scheme": scope.scheme,
    }
    headers = scope.headers
    for name, key in _WITH_BODY if body else handler.REQUEST_HEADERS:
        value = headers.get(name)
        if value is not None:
            environ[key] = value
    return environ


def body_reader(proto: Proto) -> Callable[[int], Awaitable[bytes]]:
    """``read(n)``: the request body's first ``n`` bytes, as a WSGI app reads Content-Length
    bytes; nothing is read when ``n`` is 0, so a body sent without one is never buffered."""

    async def read(length: int) -> bytes:
        if length <= 0:
            return b""
        data: bytes = await proto()
        return data[:length]

    return read


def _text_headers(response: handler.Response) -> list[tuple[str, str]]:
    return [(name, handler.header_value(value).decode("latin-1")) for name, value in response.headers]


def respond(proto: Proto, response: handler.Response, *, head: bool) -> None:
    proto.response_bytes(response.status, _text_headers(response), b"" if head else response.body)


class _Exchange:
    """One request's ASGI ``receive`` and ``send`` over RSGI's protocol object."""

    def __init__(self, proto: Proto, body: bytes) -> None:
        self.proto, self.body = proto, body
        self.body_sent = False
        self.status = 500
        self.headers: list[tuple[str, str]] = []
        self.started = self.finished = False
        self.stream: Any = None

    async def receive(self) -> dict[str, Any]:
        if not self.body_sent:
            self.body_sent = True
            return {"type": "http.request", "body": self.body, "more_body": False}
        await self.proto.client_disconnect()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.started = True
            self.status = message["status"]
            self.headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", ())]
            return
        if message["type"] != "http.response.body" or self.finished:
            return
        chunk, more = message.get("body", b""), message.get("more_body", False)
        if self.stream is None and not more:  # the usual case: the whole body at once
            self.proto.response_bytes(self.status, self.headers, chunk)
            self.finished = True
            return
        if self.stream is None:
            self.stream = self.proto.response_stream(self.status, self.headers)
        if chunk:
            await self.stream.send_bytes(chunk)
        self.finished = not more


async def asgi_from_rsgi(app: Any, scope: Scope, proto: Proto) -> None:
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
    if not exchange.finished and exchange.stream is None:
        # The app failed before answering: an empty 500 rather than a dropped connection.
        proto.response_empty(500, [])
