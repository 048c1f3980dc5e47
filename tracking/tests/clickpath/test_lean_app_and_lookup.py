"""The lean WSGI app answers like the Django views; click_find sees clicks still in Redis."""

from __future__ import annotations

from typing import Any

import pytest

from tracking.click_lookup import click_find
from tracking.clickpath.wsgi import ClickApp
from tracking.ids import click_id_parse
from tracking.models import Click

# The lean app opens and closes database connections per request as Django's handler does,
# which would end a test wrapped in a transaction.
pytestmark = pytest.mark.django_db(transaction=True)


def call(
    app: ClickApp, path: str, query: str = "", method: str = "GET"
) -> tuple[str, list[tuple[str, str]], bytes]:
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        seen["status"], seen["headers"] = status, headers

    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "REMOTE_ADDR": "8.8.8.8",
        "HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64) Firefox/126.0",
        "wsgi.url_scheme": "https",
    }
    body = b"".join(app(environ, start_response))
    return seen["status"], seen["headers"], body


def django_stub(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"django"]


def test_the_lean_app_redirects_a_click_without_django(shoes, shoes_link, drain):
    status, headers, body = call(ClickApp(django_stub), f"/c/{shoes_link.token}", "sub1=a%20b")
    assert status == "302 Found"
    location = dict(headers)["Location"]
    assert location.startswith("https://shoes.example.com/?cid=")
    assert "&s1=a%20b" in location
    assert ("Cache-Control", "no-store") in headers
    cookies = [v for k, v in headers if k == "Set-Cookie"]
    assert len(cookies) == 2
    assert all("Secure; SameSite=None" in c for c in cookies)
    assert body == b""
    drain()
    assert Click.objects.get().sub1 == "a b"


def test_the_lean_app_serves_impressions_404s_and_passes_the_rest_to_django(shoes_link):
    app = ClickApp(django_stub)
    assert call(app, f"/i/{shoes_link.token}")[0] == "200 OK"
    assert call(app, "/c/unknown-token-here")[0] == "404 Not Found"
    assert call(app, f"/c/{shoes_link.token}", method="POST")[0] == "405 Method Not Allowed"
    assert call(app, "/admin/") == ("200 OK", [("Content-Type", "text/plain")], b"django")
    assert call(app, "/cx/whatever")[2] == b"django"


def test_click_find_finds_a_click_before_and_after_the_consumer_writes_it(
    client, shoes_link, drain, settings
):
    response = client.get(f"/c/{shoes_link.token}", {"sub2": "pending"}, REMOTE_ADDR="8.8.8.8")
    click_id = click_id_parse(response.cookies[f"affc_{shoes_link.offer_id}"].value)
    assert click_id is not None
    before = click_find(click_id=click_id)
    assert before is not None
    assert (before.offer_id, before.publisher_id, before.sub2, before.reason) == (
        shoes_link.offer_id, shoes_link.publisher_id, "pending", ""
    )  # fmt: skip
    if settings.REDIS_URL:
        assert not Click.objects.filter(pk=click_id).exists()  # still only in Redis
    drain()
    after = click_find(click_id=click_id)
    assert after is not None
    assert after.pk == click_id
    assert after._state.adding is False
    assert click_find(click_id=click_id_parse("0" * 32)) is None  # type: ignore[arg-type]


def test_the_lean_app_does_database_housekeeping_only_for_clicks_that_use_the_database(
    shoes_link, monkeypatch, settings
):
    from tracking.clickpath import lean

    calls: list[int] = []
    monkeypatch.setattr(lean, "close_old_connections", lambda: calls.append(1))
    app = ClickApp(django_stub)
    assert call(app, f"/c/{shoes_link.token}")[0] == "302 Found"  # link read from the database
    assert len(calls) == 2  # before the first query and after the request, as Django would
    assert call(app, f"/c/{shoes_link.token}")[0] == "302 Found"  # link from the process cache
    assert call(app, f"/i/{shoes_link.token}")[0] == "200 OK"
    # With Redis these two touch no database; embedded, each writes its row there.
    expected = 2 if settings.REDIS_URL else 6
    assert len(calls) == expected
    lean.db_enter()  # outside a lean request (Django's views, tests) it does nothing
    assert len(calls) == expected
