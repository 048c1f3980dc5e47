"""POST /api/v1/clicks/ (issue 16): a click recorded server-side through the edge's one click
path, answered as JSON. Driven through the edge, as production serves it."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from rest_framework.authtoken.models import Token

from affiliates.models import Cap, Offer, OfferAccess, Publisher
from affiliates.tests import factories as f
from tracking.api.clicks import ClickThrottle
from tracking.models import Click
from tracking.tests.asgi_driver import DESKTOP_UA
from tracking.tests.clickpath.conftest import IPHONE_UA

pytestmark = pytest.mark.django_db(transaction=True)  # the edge sees committed rows only

US_VISITOR = "8.8.8.8"


@pytest.fixture
def record(edge: Any, pia: Any) -> Any:
    """POST a click as Pia (pixelpush's owner), with the visitor's facts defaulted."""
    key = Token.objects.get_or_create(user=pia)[0].key

    def _record(user_key: str | None = None, **body: Any) -> Any:
        payload = {"ip": US_VISITOR, "user_agent": DESKTOP_UA, **body}
        auth = f"Token {user_key or key}"
        return edge.post("/api/v1/clicks/", payload, content_type="application/json", HTTP_AUTHORIZATION=auth)

    return _record


def only_click(drain: Any) -> Click:
    drain()
    assert Click.objects.count() == 1
    return Click.objects.get()


def test_it_records_the_click_and_answers_its_id_and_destination(record, drain, shoes, shoes_link):
    response = record(offer=shoes.pk, sub1="newsletter", source="fb/1", referrer="https://blog.example.org/")
    assert response.status_code == 201, response.content
    body = response.json()
    click = only_click(drain)
    assert body["click_id"] == click.id.hex
    assert (
        body["destination_url"] == f"https://shoes.example.com/?cid={click.id.hex}&s1=newsletter&src=fb%2F1"
    )
    assert (body["offer_id"], body["publisher_id"], body["fraud_flags"]) == (
        shoes.pk,
        shoes_link.publisher_id,
        [],
    )
    assert (click.reason, click.sub1, click.source, click.country) == ("", "newsletter", "fb/1", "US")
    assert click.referer == "https://blog.example.org/"
    assert click.user_agent == DESKTOP_UA
    assert "Set-Cookie" not in response  # a server has no visitor cookies to keep


def test_a_link_token_works_like_the_offer(record, drain, shoes_link):
    response = record(link=shoes_link.token, url="https://shoes.example.com/boots")
    assert response.status_code == 201
    assert response.json()["destination_url"].startswith("https://shoes.example.com/boots?")
    assert only_click(drain).offer_id == shoes_link.offer_id


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"status": Offer.Status.PAUSED}, "offer_paused"),
        ({"status": Offer.Status.EXPIRED}, "offer_expired"),
        ({"target_countries": ["DE"]}, "geo_mismatch"),
        ({"target_devices": ["mobile"]}, "device_mismatch"),
    ],
)
def test_a_refused_click_is_recorded_and_answered_422_with_its_reason(
    record, drain, settings, shoes, shoes_link, change, code
):
    settings.DEFAULT_FALLBACK_URL = "https://network.example.net/more"
    Offer.objects.filter(pk=shoes.pk).update(**change)
    response = record(offer=shoes.pk)
    assert response.status_code == 422
    body = response.json()
    assert (body["code"], body["destination_url"], body["fallback_offer_id"]) == (
        code,
        "https://network.example.net/more",
        None,
    )
    click = only_click(drain)
    assert (click.id.hex, click.reason) == (body["click_id"], code)


def test_a_pending_link_is_refused_not_approved(record, drain, shoes, shoes_link):
    OfferAccess.objects.filter(pk=shoes_link.pk).update(status=OfferAccess.Status.PENDING)
    response = record(offer=shoes.pk)
    assert (response.status_code, response.json()["code"]) == (422, "not_approved")
    assert only_click(drain).reason == "not_approved"


def test_caps_count_api_clicks_and_redirect_clicks_together(record, edge, drain, shoes, shoes_link):
    f.CapFactory(offer=shoes, metric=Cap.Metric.CLICKS, period=Cap.Period.DAY, limit=Decimal("2"))
    assert record(offer=shoes.pk).status_code == 201
    assert edge.get(f"/c/{shoes_link.token}").status_code == 302
    refused = record(offer=shoes.pk)
    assert (refused.status_code, refused.json()["code"]) == (422, "cap_reached")
    drain()
    assert sorted(Click.objects.values_list("reason", flat=True)) == ["", "", "cap_reached"]


def test_a_refused_click_names_the_fallback_offer_it_would_go_to(record, drain, acme, shoes, shoes_link):
    boots = f.OfferFactory(advertiser=acme, landing_url="https://boots.example.com/?p={publisher_id}")
    Offer.objects.filter(pk=shoes.pk).update(status=Offer.Status.PAUSED, fallback_offer=boots)
    body = record(offer=shoes.pk).json()
    assert body["fallback_offer_id"] == boots.pk
    assert body["destination_url"].startswith(
        f"https://boots.example.com/?p={shoes_link.publisher_id}&click_id="
    )


def test_a_bot_is_recorded_with_its_flag_as_the_redirect_records_it(record, drain, shoes, shoes_link):
    body = record(offer=shoes.pk, user_agent="Googlebot/2.1 (+http://www.google.com/bot.html)").json()
    assert body["fraud_flags"] == ["bot_user_agent"]
    assert only_click(drain).fraud_flags == ["bot_user_agent"]


def test_the_visitor_facts_come_from_the_body_not_the_caller(record, drain, shoes, shoes_link):
    Offer.objects.filter(pk=shoes.pk).update(target_devices=["mobile"], target_countries=["DE"])
    body = record(offer=shoes.pk, ip="2003:e5:1234::1", user_agent=IPHONE_UA).json()
    assert (body["country"], body["device"], body["os"]) == ("DE", "mobile", "ios")


def test_another_publishers_link_or_an_offer_without_a_link_is_404(record, drain, shoes, rival):
    theirs = f.OfferAccessFactory(offer=shoes, publisher=rival)
    assert record(link=theirs.token).json()["code"] == "no_link"
    response = record(offer=shoes.pk)  # pixelpush has no link to shoes here
    assert (response.status_code, response.json()["code"]) == (404, "no_link")
    assert drain() == 0
    assert not Click.objects.exists()


def test_bad_input_is_a_400_with_a_code(record, shoes_link):
    response = record(offer=shoes_link.offer_id, link=shoes_link.token)
    assert (response.status_code, response.json()["code"]) == (400, "offer_or_link")
    response = record(offer=shoes_link.offer_id, ip="not-an-ip")
    assert response.status_code == 400
    assert "ip" in response.json()["fields"]


def test_advertisers_and_anonymous_callers_are_refused(edge, record, ada, shoes_link):
    ada_key = Token.objects.get_or_create(user=ada)[0].key
    response = record(ada_key, offer=shoes_link.offer_id)
    assert (response.status_code, response.json()["code"]) == (403, "publishers_only")
    anonymous = edge.post("/api/v1/clicks/", {}, content_type="application/json")
    assert anonymous.status_code == 401


def test_a_suspended_publisher_is_refused(record, pixelpush, shoes_link):
    Publisher.objects.filter(pk=pixelpush.pk).update(status=Publisher.Status.SUSPENDED)
    response = record(offer=shoes_link.offer_id)
    assert (response.status_code, response.json()["code"]) == (403, "account_suspended")


def test_the_rate_limit_answers_429(record, settings, monkeypatch, shoes_link):
    settings.CLICK_API_RATE = "2/min"
    # The counter is in the shared cache (Redis on the PostgreSQL leg), where user ids of
    # earlier tests and other workers repeat: this test counts under keys of its own.
    monkeypatch.setattr(ClickThrottle, "cache_format", f"t-{uuid.uuid4().hex}-%(scope)s-%(ident)s")
    codes = [record(offer=shoes_link.offer_id).status_code for _ in range(3)]
    assert codes == [201, 201, 429]


def test_an_api_click_goes_to_the_database_when_redis_is_down(own_redis, record, drain, shoes_link):
    """The redirect path's fallback, the same code: the row is written by the edge's thread pool.
    (Both stores down cannot be driven through the API: it reads the caller's key from the
    database; the spool behind this fallback is test_durability's.)"""
    assert record(offer=shoes_link.offer_id, sub1="0").status_code == 201
    own_redis.kill()
    answer = record(offer=shoes_link.offer_id, sub1="1")
    assert answer.status_code == 201
    click = Click.objects.get(sub1="1")  # written at once, no consumer needed
    assert (click.id.hex, click.reason) == (answer.json()["click_id"], "")
