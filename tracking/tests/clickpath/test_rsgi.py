"""The edge under granian's RSGI interface (what ``make serve`` runs): clicks answered in one
call, and every other request bridged to the ASGI app with its body, status, headers and
streamed chunks intact (tracking/tests/asgi_driver.py stands in for granian's objects;
tracking/tests/clickpath/test_served.py runs the real server)."""

from __future__ import annotations

import asyncio
import gc
import threading
import weakref
from collections.abc import Iterator
from typing import Any

import pytest
from a2wsgi import WSGIMiddleware

from tracking.clickpath import edge, handler
from tracking.clickpath.blocking import blocking_pool_shutdown
from tracking.conversions.route import PostbackRoute
from tracking.models import Click
from tracking.tests.asgi_driver import DESKTOP_UA, RsgiHeaders, RsgiProto, RsgiScope

pytestmark = pytest.mark.django_db(transaction=True)


def request(method: str, path: str, query: str = "", client: str = "8.8.8.8:40000") -> RsgiScope:
    form = "application/x-www-form-urlencoded"
    headers = RsgiHeaders([("user-agent", DESKTOP_UA), ("content-type", form)])
    return RsgiScope(method, path, query, client, "https", headers)


async def django_like(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """An ASGI app that echoes what it was given, in two chunks when asked to stream."""
    message = await receive()
    echo = f"{scope['method']} {scope['path']} {scope['query_string'].decode()} {scope['client'][0]}"
    headers = [(b"content-type", b"text/plain"), (b"x-body", message["body"])]
    if scope["path"] == "/boom":
        raise RuntimeError("a bug")
    await send({"type": "http.response.start", "status": 201, "headers": headers})
    if scope["path"] == "/stream":
        await send({"type": "http.response.body", "body": b"one,", "more_body": True})
        await send({"type": "http.response.body", "body": b"two,", "more_body": True})
        await send({"type": "http.response.body", "body": b"three", "more_body": False})
    elif scope["path"] == "/two-parts":
        await send({"type": "http.response.body", "body": b"one,", "more_body": True})
        await send({"type": "http.response.body", "body": b"two", "more_body": False})
    else:
        await send({"type": "http.response.body", "body": echo.encode()})


@pytest.fixture
def serve() -> Iterator[Any]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)  # Playwright holds the main loop
    thread.start()
    app = edge.Edge(django_like, postback=PostbackRoute())

    def call(scope: RsgiScope, body: bytes = b"") -> RsgiProto:
        proto = RsgiProto(body)
        asyncio.run_coroutine_threadsafe(app.__rsgi__(scope, proto), loop).result(timeout=60)
        return proto

    yield call
    asyncio.run_coroutine_threadsafe(app.closing(), loop).result()
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)
    loop.close()
    blocking_pool_shutdown()


def test_a_click_is_answered_in_one_call_and_stored(serve, shoes_link, drain):
    proto = serve(request("GET", f"/c/{shoes_link.token}", "sub1=rsgi&source=x%20y"))
    assert proto.answer is not None
    status, headers, body = proto.answer
    assert (status, body) == (302, b"")
    location = dict(headers)["Location"]
    assert location.startswith("https://shoes.example.com/?cid=")
    assert location.endswith("&s1=rsgi&src=x%20y")
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in headers)
    assert sum(k == "Set-Cookie" for k, _ in headers) == 2
    drain()
    click = Click.objects.get(sub1="rsgi")
    assert (click.source, click.ip, click.device) == ("x y", "8.8.8.8", "desktop")


def test_a_head_click_has_no_body_and_an_impression_is_a_gif(serve, shoes_link):
    assert serve(request("HEAD", f"/c/{shoes_link.token}")).answer[0] == 302
    status, headers, body = serve(request("GET", f"/i/{shoes_link.token}")).answer
    assert (status, dict(headers)["Content-Type"], body[:3]) == (200, "image/gif", b"GIF")


def test_other_requests_reach_the_asgi_app_with_their_body(serve):
    proto = serve(request("POST", "/api/v1/things", "a=1", client="[2001:db8::7]:5000"), body=b"txn_id=T-1")
    status, headers, body = proto.answer
    assert status == 201
    assert ("x-body", "txn_id=T-1") in headers
    assert body == b"POST /api/v1/things a=1 2001:db8::7"


def test_a_streamed_answer_is_streamed_and_a_failing_app_answers_500(serve):
    proto = serve(request("GET", "/stream"))
    assert proto.answer[0] == 201
    assert proto.chunks == [b"one,two,", b"three"]  # the first chunk waits to see if more follow
    two_parts = serve(request("GET", "/two-parts"))
    assert (two_parts.answer[2], two_parts.chunks) == (b"one,two", [])  # they did not: answered whole
    assert serve(request("GET", "/boom")).answer == (500, [], b"")


def test_client_addresses_are_read_in_both_families():
    assert edge.host_port("203.0.113.9:5123") == ("203.0.113.9", 5123)
    assert edge.host_port("[2001:db8::1]:443") == ("2001:db8::1", 443)
    for address in ("203.0.113.9:5123", "[2001:db8::1]:443", "10.0.0.1:0"):
        assert edge._client_host(address) == edge.host_port(address)[0]


def wsgi_app(environ: dict[str, Any], start_response: Any) -> Any:
    """Django's shapes of answer, as a2wsgi hands them over (every chunk with more to come, then
    an empty last one): an empty redirect, a page, and a streamed download."""
    path = environ["PATH_INFO"]
    if path == "/login":
        start_response("301 Moved Permanently", [("Location", "/login/"), ("Content-Length", "0")])
        return [b""]
    if path == "/page":
        start_response("200 OK", [("Content-Type", "text/html")])
        return [b"<p>hello</p>"]
    environ["request"] = {"environ": environ}  # a cycle through the ASGI receive, as Django's request
    start_response("200 OK", [("Content-Type", "text/csv")])
    return (f"row {n}\r\n".encode() for n in range(3))


class Stream:
    def __init__(self, sink: list[bytes]) -> None:
        self.sink = sink

    async def send_bytes(self, data: bytes) -> None:
        self.sink.append(data)


class StreamProto(RsgiProto):
    """granian ends a stream when its transport is freed: the stand-in records whether it was."""

    def response_stream(self, status: int, headers: list[tuple[str, str]]) -> Any:
        self.response_bytes(status, headers, b"")
        stream = Stream(self.chunks)
        self.stream_alive = weakref.ref(stream)
        return stream


@pytest.fixture
def serve_wsgi() -> Iterator[Any]:
    loop = asyncio.new_event_loop()
    app = edge.Edge(WSGIMiddleware(wsgi_app, workers=2), postback=PostbackRoute())  # type: ignore[arg-type]
    kept: list[Any] = []

    def call(path: str) -> StreamProto:
        proto = StreamProto()
        # Django's request keeps the ASGI receive (so the exchange) in reference cycles: no
        # collection runs here, as none may run for a while in the server.
        gc.disable()
        try:
            loop.run_until_complete(app.__rsgi__(request("GET", path), proto))
        finally:
            gc.enable()
        kept.append(proto)
        return proto

    yield call
    loop.run_until_complete(app.closing())
    loop.close()
    blocking_pool_shutdown()


def test_a_django_answer_that_ends_is_answered_whole_with_its_length(serve_wsgi):
    proto = serve_wsgi("/login")
    assert proto.answer == (301, [("location", "/login/"), ("content-length", "0")], b"")
    assert not hasattr(proto, "stream_alive")  # a stream of nothing never ended under granian
    assert serve_wsgi("/page").answer == (200, [("content-type", "text/html")], b"<p>hello</p>")


def test_a_streamed_django_answer_is_ended_when_the_app_returns(serve_wsgi):
    proto = serve_wsgi("/download.csv")
    assert proto.answer == (200, [("content-type", "text/csv")], b"")
    assert b"".join(proto.chunks) == b"row 0\r\nrow 1\r\nrow 2\r\n"
    assert proto.stream_alive() is None  # freed: granian sends the last chunk and ends the body


class _Answer:
    def response_bytes(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body


def test_header_values_go_as_the_wire_carries_them_and_ascii_ones_as_they_are():
    plain = handler.Response(302, [("Location", "https://x.example/?a=1"), handler.NO_STORE])
    typed = handler.Response(302, [("Location", "https://x.example/skó?a=€"), handler.NO_STORE])
    answers = [_Answer(), _Answer()]
    edge.rsgi_respond(answers[0], plain, head=False)
    edge.rsgi_respond(answers[1], typed, head=True)
    assert answers[0].headers is plain.headers  # no copy when every value is ASCII
    # Latin-1 text goes as Latin-1; a value beyond it is percent-encoded, as Django's redirects do.
    assert answers[1].headers == [("Location", "https://x.example/sk%C3%B3?a=%E2%82%AC"), handler.NO_STORE]
    assert (answers[1].status, answers[1].body) == (302, b"")
