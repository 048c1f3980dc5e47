"""The edge under granian's RSGI interface (what ``make serve`` runs): clicks answered in one
call, and every other request bridged to the ASGI app with its body, status, headers and
streamed chunks intact (tracking/tests/asgi_driver.py stands in for granian's objects;
tracking/tests/clickpath/test_served.py runs the real server)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tracking.clickpath import edge
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
    assert proto.chunks == [b"one,", b"two"]
    assert serve(request("GET", "/boom")).answer == (500, [], b"")


def test_client_addresses_are_read_in_both_families():
    assert edge.host_port("203.0.113.9:5123") == ("203.0.113.9", 5123)
    assert edge.host_port("[2001:db8::1]:443") == ("2001:db8::1", 443)
