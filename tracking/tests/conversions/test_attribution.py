"""Attribution: last and first click, coupons without a click, and the pixel's cookie."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from affiliates.models import Offer
from affiliates.tests import factories as f
from tracking.ids import click_cookie_name
from tracking.models import Conversion
from tracking.tests.conversions.conftest import postback
from tracking.tests.factories import CHROME_UA, HOME_IP, click_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(edge: Any) -> Any:
    """Postbacks (and the pixel behind them) through the edge, as the app server serves them."""
    return edge


@pytest.fixture
def two_clicks(shoes, pixelpush, rival, shoes_link):
    """The same visitor clicked rival's link first, then pixelpush's."""
    f.OfferAccessFactory(offer=shoes, publisher=rival)
    first = click_make(shoes, rival, ago=timedelta(days=3))
    last = click_make(shoes, pixelpush, ago=timedelta(hours=1))
    return first, last


def test_last_click_credits_the_reported_click(client, two_clicks) -> None:
    _, last = two_clicks
    body = postback(client, click_id=last.id.hex, goal="lead").json()
    conv = Conversion.objects.get(pk=body["conversion_id"])
    assert conv.click_id == last.id
    assert conv.publisher_id == last.publisher_id
    assert conv.trace["attribution"]["model"] == "last_click"


def test_first_click_credits_the_visitors_earliest_click_in_the_window(client, shoes, two_clicks) -> None:
    Offer.objects.filter(pk=shoes.pk).update(attribution_model=Offer.Attribution.FIRST_CLICK)
    first, last = two_clicks
    body = postback(client, click_id=last.id.hex, goal="lead").json()
    conv = Conversion.objects.get(pk=body["conversion_id"])
    assert conv.click_id == first.id
    assert conv.publisher_id == first.publisher_id
    attribution = conv.trace["attribution"]
    assert attribution["model"] == "first_click"
    assert [a["click_id"] for a in attribution["alternatives"]] == [last.id.hex]


def test_first_click_ignores_another_visitor_and_clicks_outside_the_window(client, shoes, rival, two_clicks):
    Offer.objects.filter(pk=shoes.pk).update(attribution_model=Offer.Attribution.FIRST_CLICK)
    _, last = two_clicks
    click_make(shoes, rival, ago=timedelta(days=5), ip="89.160.20.112")  # someone else
    click_make(shoes, rival, ago=timedelta(days=40))  # same visitor, too long ago
    conv = Conversion.objects.get(
        pk=postback(client, click_id=last.id.hex, goal="lead").json()["conversion_id"]
    )
    assert conv.click_id == two_clicks[0].id


def test_a_coupon_attributes_a_sale_without_a_click(client, shoes, pixelpush, shoes_link) -> None:
    f.CouponFactory(code="PIXEL20", offer=shoes, publisher=pixelpush)
    body = postback(client, coupon="pixel20", amount="40", txn_id="C-1").json()
    assert body["result"] == "accepted"
    conv = Conversion.objects.get(pk=body["conversion_id"])
    assert (conv.publisher_id, conv.coupon, conv.source, conv.click_id) == (
        pixelpush.id,
        "PIXEL20",
        "coupon",
        None,
    )
    assert conv.trace["attribution"]["model"] == "coupon"


def test_an_unknown_coupon_is_rejected(client, acme) -> None:
    body = postback(client, coupon="NOSUCH", amount="40").json()
    assert (body["result"], body["reason"]) == ("rejected", "unknown_coupon")


def test_the_pixel_attributes_through_the_click_cookie_and_answers_a_gif(client, shoes, shoes_click) -> None:
    client.cookies[click_cookie_name(shoes.id)] = shoes_click.id.hex
    response = client.get(
        f"/p/{shoes.id}.gif",
        {"goal": "sale", "amount": "30", "txn_id": "PX-1"},
        REMOTE_ADDR=HOME_IP,
        HTTP_USER_AGENT=CHROME_UA,
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "image/gif"
    assert response.content.startswith(b"GIF89a")
    conv = Conversion.objects.get()
    assert (conv.source, conv.click_id, conv.amount, conv.country) == (
        "pixel",
        shoes_click.id,
        Decimal("30"),
        "GB",
    )
    assert conv.fraud_flags == []
    assert conv.trace["attribution"]["by"] == "cookie"


def test_the_pixel_never_changes_a_status(client, shoes, shoes_click) -> None:
    client.cookies[click_cookie_name(shoes.id)] = shoes_click.id.hex
    client.get(
        f"/p/{shoes.id}.gif",
        {"goal": "lead", "status": "approved"},
        REMOTE_ADDR=HOME_IP,
        HTTP_USER_AGENT=CHROME_UA,
    )
    assert Conversion.objects.get().status == "pending"


def test_a_pixel_without_a_cookie_matches_ip_and_ua_and_is_flagged(client, shoes, shoes_click) -> None:
    client.get(f"/p/{shoes.id}.gif", {"goal": "lead"}, REMOTE_ADDR=HOME_IP, HTTP_USER_AGENT=CHROME_UA)
    conv = Conversion.objects.get()
    assert conv.click_id == shoes_click.id
    assert conv.fraud_flags == ["pixel_without_cookie"]
    assert conv.held_for_review is True
    assert conv.trace["attribution"]["by"] == "ip_ua"


def test_a_pixel_with_nothing_to_match_is_a_rejected_unknown_click(client, shoes, shoes_click) -> None:
    response = client.get(
        f"/p/{shoes.id}.gif", {"goal": "lead"}, REMOTE_ADDR="89.160.20.112", HTTP_USER_AGENT=CHROME_UA
    )
    assert response.status_code == 200
    conv = Conversion.objects.get()
    assert (conv.status, conv.reason) == ("rejected", "unknown_click")
    assert "pixel_without_cookie" in conv.fraud_flags


def test_a_malformed_pixel_still_answers_a_gif_and_is_kept_for_audit(client, shoes, shoes_click) -> None:
    client.cookies[click_cookie_name(shoes.id)] = shoes_click.id.hex
    response = client.get(f"/p/{shoes.id}.gif", {"amount": "lots"})
    assert (response.status_code, response["Content-Type"]) == (200, "image/gif")
    assert Conversion.objects.get().reason == "bad_amount"


def test_a_pixel_for_an_unknown_offer_answers_a_gif(client, db) -> None:
    response = client.get("/p/999999.gif")
    assert (response.status_code, response["Content-Type"]) == (200, "image/gif")
    assert Conversion.objects.count() == 0
