"""The edge answers clicks and impressions on the event loop, through its ASGI interface and
its RSGI one (what ``make serve`` runs).

The edge resolves links and takes the Redis-down fallbacks in a thread pool, whose threads have
database connections of their own: these tests commit their data (transaction=True) and close
the pool's connections afterwards.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
import redis
from django.conf import settings

from affiliates.models import Cap
from affiliates.tests import factories as f
from tracking.clickpath import links, redis_conn
from tracking.models import Click, Impression
from tracking.tests.asgi_driver import Edge

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(params=["asgi", "rsgi"])
def asgi(request: pytest.FixtureRequest) -> Iterator[Edge]:
    driver = Edge(interface=request.param)
    yield driver
    driver.close()


def location(headers: list[tuple[str, str]]) -> str:
    return dict(headers)["location"]


def test_a_click_is_redirected_with_its_cookies_and_stored(asgi, shoes_link, drain):
    status, headers, body = asgi.get(f"/c/{shoes_link.token}", "sub1=a%20b&source=news")
    assert status == 302
    click_id = location(headers).split("cid=")[1].split("&")[0]
    assert location(headers) == f"https://shoes.example.com/?cid={click_id}&s1=a%20b&src=news"
    assert ("cache-control", "no-store") in headers
    cookies = [v for k, v in headers if k == "set-cookie"]
    assert [c.split("=")[0] for c in cookies] == [
        f"affc_{shoes_link.offer_id}",
        f"afff_{shoes_link.offer_id}",
    ]
    assert all(f"={click_id};" in c and "Secure; SameSite=None" in c for c in cookies)
    assert body == b""
    drain()
    click = Click.objects.get(id=uuid.UUID(click_id))
    assert (click.sub1, click.source, click.country, click.device) == ("a b", "news", "US", "desktop")
    assert click.publisher_id == shoes_link.publisher_id


def test_over_plain_http_the_cookies_are_same_site_lax(asgi, shoes_link):
    _, headers, _ = asgi.get(f"/c/{shoes_link.token}", "sub1=x", scheme="http")
    cookies = [v for k, v in headers if k == "set-cookie"]
    assert len(cookies) == 2
    assert all("SameSite=Lax" in c and "Secure" not in c for c in cookies)


def test_impressions_heads_wrong_methods_and_unknown_tokens(asgi, shoes_link, drain):
    status, headers, body = asgi.get(f"/i/{shoes_link.token}")
    assert (status, dict(headers)["content-type"], body[:6]) == (200, "image/gif", b"GIF89a")
    status, _, body = asgi.get(f"/c/{shoes_link.token}", method="HEAD")
    assert (status, body) == (302, b"")
    status, headers, _ = asgi.get(f"/c/{shoes_link.token}", method="POST")
    assert (status, dict(headers)["allow"]) == (405, "GET, HEAD")
    assert asgi.get("/c/no-such-token-at-all")[0] == 404
    assert asgi.get("/c/bad$token")[0] == 404
    drain()
    assert Impression.objects.filter(offer_id=shoes_link.offer_id).count() == 1
    assert Click.objects.count() == 1  # the HEAD


def test_everything_else_goes_to_the_wrapped_app(asgi, shoes_link):
    assert asgi.get("/postback", "click_id=x")[0] == 400  # the edge answers every postback
    status, headers, body = asgi.get("/postback", method="PUT")
    assert (status, dict(headers)["allow"]) == (405, "GET, POST")
    assert json.loads(body)["reason"] == "method_not_allowed"
    assert asgi.get("/api/v1/offers/")[0] == 204
    assert asgi.get("/p/1.gif")[0] == 204  # the pixel is Django's
    assert asgi.passed == ["/api/v1/offers/", "/p/1.gif"]


def test_a_cap_is_exact_under_a_burst_on_one_loop(asgi, shoes_link, drain):
    f.CapFactory(offer=shoes_link.offer, metric=Cap.Metric.CLICKS, period="day", limit=7)
    answers = asgi.burst(f"/c/{shoes_link.token}", [f"sub1={n}" for n in range(40)])
    to_offer = [a for a in answers if location(a[1]).startswith("https://shoes.example.com/")]
    assert len(to_offer) == 7
    assert all(a[0] == 302 for a in answers)
    drain()
    assert Click.objects.filter(reason="").count() == 7
    assert Click.objects.filter(reason="cap_reached").count() == 33


@pytest.mark.redis
def test_with_redis_unreachable_clicks_go_straight_to_the_database(asgi, shoes_link, settings):
    settings.REDIS_URL = "redis://127.0.0.1:9/0"  # nothing listens on the discard port
    redis_conn.reset()
    statuses = [asgi.get(f"/c/{shoes_link.token}", f"sub1={n}")[0] for n in range(3)]
    assert statuses == [302, 302, 302]
    assert sorted(Click.objects.values_list("sub1", flat=True)) == ["0", "1", "2"]
    redis_conn.reset()


def test_a_link_missing_from_the_process_cache_is_resolved_off_the_loop(asgi, shoes_link):
    links._local.clear()
    assert asgi.get(f"/c/{shoes_link.token}")[0] == 302
    assert links.link_cached(shoes_link.token) is not links.MISS
    assert settings.EDGE_BLOCKING_THREADS >= 1


@pytest.mark.postgres
def test_with_redis_unreachable_a_cap_is_still_exact_across_the_pool_threads(asgi, shoes_link, settings):
    f.CapFactory(offer=shoes_link.offer, metric=Cap.Metric.CLICKS, period="day", limit=5)
    settings.REDIS_URL = "redis://127.0.0.1:9/0"
    redis_conn.reset()
    answers = asgi.burst(f"/c/{shoes_link.token}", [f"sub1={n}" for n in range(30)])
    assert sum(location(a[1]).startswith("https://shoes.example.com/") for a in answers) == 5
    assert Click.objects.filter(reason="").count() == 5
    assert Click.objects.count() == 30
    redis_conn.reset()


@pytest.mark.redis
def test_a_redis_that_refuses_writes_sends_clicks_to_the_database(asgi, shoes_link, own_redis, drain):
    redis.Redis.from_url(own_redis.url).config_set("maxmemory", 1)  # every write: OOM error
    answers = asgi.burst(f"/c/{shoes_link.token}", [f"sub1={n}" for n in range(4)])
    assert [a[0] for a in answers] == [302] * 4
    assert all(location(a[1]).startswith("https://shoes.example.com/") for a in answers)
    assert sorted(Click.objects.values_list("sub1", flat=True)) == ["0", "1", "2", "3"]


@pytest.mark.redis
@pytest.mark.postgres
def test_every_click_of_a_burst_survives_redis_being_killed_midway(asgi, shoes_link, own_redis, drain):
    before = asgi.burst(f"/c/{shoes_link.token}", [f"sub1={n}" for n in range(30)])
    own_redis.kill()
    after = asgi.burst(f"/c/{shoes_link.token}", [f"sub1={n}" for n in range(30, 60)])
    assert [a[0] for a in before + after] == [302] * 60
    assert Click.objects.count() == 30  # written straight to PostgreSQL while Redis was down
    own_redis.start()  # the append-only file brings the stream back
    drain()
    assert sorted(int(s) for s in Click.objects.values_list("sub1", flat=True)) == list(range(60))
    assert asgi.get(f"/c/{shoes_link.token}", "sub1=back")[0] == 302  # the batcher reconnects
    drain()
    assert Click.objects.filter(sub1="back").exists()
