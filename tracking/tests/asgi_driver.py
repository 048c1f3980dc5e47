"""Drives the edge (tracking/clickpath/edge.py) in-process, as the app server would: through
its ASGI interface, or through its RSGI one (what ``make serve`` runs) with stand-ins for
granian's scope and protocol objects (the same methods; tracking/tests/clickpath/test_served.py
runs the real server). ``EdgeClient`` is the root conftest's ``edge`` fixture: every test of
``/c/``, ``/i/`` and ``/postback`` goes through it, with the real Django app behind it.

The edge runs on an event loop of its own, in a thread of its own (also because the browser
tests' Playwright keeps a loop running in the main thread). Its thread pool and its per-loop
database connection are closed by ``close()``, so a test's database can be flushed or dropped.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterable
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode

from django.core.wsgi import get_wsgi_application
from django.db import connections
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

from tracking.clickpath.blocking import blocking_pool_shutdown
from tracking.clickpath.edge import Edge as EdgeApp
from tracking.conversions.route import PostbackRoute

DESKTOP_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36"
)
US_IP = "8.8.8.8"

Answer = tuple[int, list[tuple[str, str]], bytes]


class RsgiHeaders:
    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs = pairs

    def get(self, key: str, default: Any = None) -> Any:
        return next((v for k, v in self.pairs if k == key), default)

    def items(self) -> list[tuple[str, str]]:
        return list(self.pairs)


class RsgiScope:
    proto, http_version, server = "http", "1.1", "testserver:80"

    def __init__(
        self, method: str, path: str, query: str, client: str, scheme: str, headers: RsgiHeaders
    ) -> None:
        self.method, self.path, self.query_string = method, path, query
        self.client, self.scheme, self.headers = client, scheme, headers


class RsgiProto:
    """granian's HTTP protocol object: the body, and exactly one answer (or a stream)."""

    def __init__(self, body: bytes = b"") -> None:
        self.body = body
        self.answer: Answer | None = None
        self.chunks: list[bytes] = []

    async def __call__(self) -> bytes:
        return self.body

    async def client_disconnect(self) -> None:
        await asyncio.Event().wait()

    def response_bytes(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        assert self.answer is None, "answered twice"
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in headers)
        self.answer = (status, headers, body)

    def response_empty(self, status: int, headers: list[tuple[str, str]]) -> None:
        self.response_bytes(status, headers, b"")

    def response_stream(self, status: int, headers: list[tuple[str, str]]) -> RsgiProto:
        self.response_bytes(status, headers, b"")
        return self

    async def send_bytes(self, data: bytes) -> None:
        self.chunks.append(data)


class Edge:
    """The edge app around ``app`` (by default one that answers 204 and records the path),
    spoken to through ``interface``: "asgi" or "rsgi"."""

    def __init__(self, app: Any = None, interface: str = "asgi") -> None:
        self.interface = interface
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.passed: list[str] = []

        async def rest(scope: dict[str, Any], receive: Any, send: Any) -> None:
            self.passed.append(scope["path"])
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})

        self.app = EdgeApp(app or rest, postback=PostbackRoute())

    async def request(
        self,
        path: str,
        query: str = "",
        *,
        method: str = "GET",
        ip: str = US_IP,
        scheme: str = "https",
        body: bytes = b"",
        headers: Iterable[tuple[bytes, bytes]] = (),
        user_agent: str = DESKTOP_UA,
    ) -> Answer:
        all_headers = [(b"user-agent", user_agent.encode()), *headers]
        if not any(name == b"cookie" for name, _ in all_headers):
            all_headers.append((b"cookie", b"other=1"))
        if body:
            all_headers.append((b"content-length", str(len(body)).encode()))
        if self.interface == "rsgi":
            return await self._rsgi(method, path, query, f"{ip}:40000", scheme, all_headers, body)
        scope = {
            "type": "http", "method": method, "path": path, "query_string": query.encode(),
            "scheme": scheme, "client": (ip, 40000), "headers": all_headers,
            "http_version": "1.1", "server": ("testserver", 80), "root_path": "",
            "asgi": {"version": "3.0"},
        }  # fmt: skip
        sent: list[dict[str, Any]] = []
        chunks = [body[i : i + 1000] for i in range(0, len(body), 1000)] or [b""]

        async def receive() -> dict[str, Any]:
            if chunks:
                chunk = chunks.pop(0)
                return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}
            await asyncio.Event().wait()  # like a server: nothing more until the client leaves
            raise AssertionError("unreachable")

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await self.app(scope, receive, send)
        start = sent[0]
        out = b"".join(m.get("body", b"") for m in sent[1:])
        return start["status"], [(k.decode(), v.decode()) for k, v in start["headers"]], out

    async def _rsgi(
        self, method: str, path: str, query: str, client: str, scheme: str, headers: Any, body: bytes
    ) -> Answer:
        pairs = RsgiHeaders([(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers])
        proto = RsgiProto(body)
        if ":" in client.rpartition(":")[0]:
            client = f"[{client.rpartition(':')[0]}]:40000"  # an IPv6 peer, as granian writes it
        await self.app.__rsgi__(RsgiScope(method, path, query, client, scheme, pairs), proto)
        assert proto.answer is not None
        status, answer_headers, out = proto.answer
        # Names as ASGI spells them, so tests read both interfaces' answers alike.
        return status, [(k.lower(), v) for k, v in answer_headers], out + b"".join(proto.chunks)

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=60)

    def get(self, path: str, query: str = "", **kwargs: Any) -> Answer:
        return self.run(self.request(path, query, **kwargs))

    def burst(self, path: str, queries: list[str], **kwargs: Any) -> list[Answer]:
        """All requests at once on the loop, so they share its batches."""

        async def all_at_once() -> list[Any]:
            return await asyncio.gather(*(self.request(path, q, **kwargs) for q in queries))

        return self.run(all_at_once())  # type: ignore[no-any-return]

    def close(self) -> None:
        self.run(self.app.closing())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()
        blocking_pool_shutdown()


def django_behind_the_edge() -> Any:
    """What config/asgi.py puts behind the edge (Django through a2wsgi's threads), with each
    request's database connection closed afterwards so the test database can be flushed."""
    from a2wsgi import WSGIMiddleware

    app = get_wsgi_application()

    def closing(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        try:
            return list(app(environ, start_response))
        finally:
            connections.close_all()

    return WSGIMiddleware(closing, workers=2)  # type: ignore[arg-type]


class EdgeResponse:
    """The parts of Django's test response the tests read."""

    def __init__(self, answer: Answer) -> None:
        self.status_code, self.raw_headers, self.content = answer
        headers = self.raw_headers
        self.headers = {k.lower(): v for k, v in headers}
        self.cookies: SimpleCookie = SimpleCookie()
        for name, value in headers:
            if name.lower() == "set-cookie":
                self.cookies.load(value)

    def __getitem__(self, name: str) -> str:
        return self.headers[name.lower()]

    def __contains__(self, name: str) -> bool:
        return name.lower() in self.headers

    def items(self) -> list[tuple[str, str]]:
        return list(self.raw_headers)

    def json(self) -> Any:
        return json.loads(self.content)


class EdgeClient:
    """Django's test ``Client`` API (get, post, put, cookies) answered by the edge through its
    ASGI interface (or RSGI), with the real Django app behind it for what the edge passes on.
    Like Django's client it keeps the cookies the answers set and sends them back."""

    def __init__(self, interface: str = "asgi") -> None:
        self.edge = Edge(django_behind_the_edge(), interface)
        self.cookies: SimpleCookie = SimpleCookie()

    def _call(self, method: str, path: str, query: str, body: bytes, ctype: str, extra: Any) -> EdgeResponse:
        path, _, inline = path.partition("?")
        headers = [(b"content-type", ctype.encode())] if ctype else []
        if self.cookies:
            jar = "; ".join(f"{m.key}={m.value}" for m in self.cookies.values())
            headers.append((b"cookie", jar.encode()))
        for key, value in extra.items():
            if key.startswith("HTTP_") and key != "HTTP_USER_AGENT":
                headers.append((key[5:].lower().replace("_", "-").encode(), str(value).encode()))
        kwargs: dict[str, Any] = {"method": method, "body": body, "headers": headers}
        kwargs["scheme"] = "https" if extra.get("secure") else "http"
        kwargs["ip"] = extra.get("REMOTE_ADDR", "127.0.0.1")
        kwargs["user_agent"] = extra.get("HTTP_USER_AGENT", "")
        query = "&".join(q for q in (inline, query) if q)
        response = EdgeResponse(self.edge.get(path, query, **kwargs))
        self.cookies.update(response.cookies)
        return response

    def get(self, path: str, data: dict[str, Any] | None = None, **extra: Any) -> EdgeResponse:
        return self._call("GET", path, urlencode(data or {}, doseq=True), b"", "", extra)

    def head(self, path: str, data: dict[str, Any] | None = None, **extra: Any) -> EdgeResponse:
        return self._call("HEAD", path, urlencode(data or {}, doseq=True), b"", "", extra)

    def post(
        self, path: str, data: Any = None, content_type: str = MULTIPART_CONTENT, **extra: Any
    ) -> EdgeResponse:
        if content_type == MULTIPART_CONTENT:
            body = encode_multipart(BOUNDARY, data or {})
        elif content_type == "application/json" and not isinstance(data, str | bytes):
            body = json.dumps(data).encode()
        elif isinstance(data, dict):
            body = urlencode(data, doseq=True).encode()
        else:
            body = data.encode() if isinstance(data, str) else data or b""
        return self._call("POST", path, "", body, content_type, extra)

    def put(self, path: str, **extra: Any) -> EdgeResponse:
        return self._call("PUT", path, "", b"", "", extra)

    def delete(self, path: str, **extra: Any) -> EdgeResponse:
        return self._call("DELETE", path, "", b"", "", extra)

    def close(self) -> None:
        self.edge.close()
