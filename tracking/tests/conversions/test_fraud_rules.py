"""One test per fraud rule: the flag, the trace entry, and the hold for review."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from affiliates.models import Offer
from tracking.ids import click_cookie_name
from tracking.models import Conversion
from tracking.tests.conversions.conftest import postback
from tracking.tests.factories import CHROME_UA, HOME_IP, click_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(edge: Any) -> Any:
    """Postbacks (and the pixel behind them) through the edge, as the app server serves them."""
    return edge


def _convert(client, click, **params):
    body = postback(client, click_id=click.id.hex, goal="lead", **params).json()
    return body, Conversion.objects.get(pk=body["conversion_id"])


def _assert_held_for(body, conv, rule: str, reason_fragment: str) -> None:
    assert body["result"] == "accepted"
    assert rule in body["flags"]
    assert rule in conv.fraud_flags
    assert conv.held_for_review is True
    assert conv.status == "pending"
    fired = {r["rule"]: r["reason"] for r in conv.trace["rules"]}
    assert reason_fragment in fired[rule]
    assert rule in conv.trace["rules_checked"]


def test_a_clean_click_fires_no_rule(client, shoes_click) -> None:
    body, conv = _convert(client, shoes_click)
    assert (body["flags"], conv.held_for_review, conv.trace["rules"]) == ([], False, [])


def test_a_bot_user_agent_on_the_click_is_held(client, shoes, pixelpush, shoes_link) -> None:
    click = click_make(
        shoes,
        pixelpush,
        user_agent="Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    )
    _assert_held_for(*_convert(client, click), "bot_user_agent", "Googlebot")


def test_a_datacenter_address_is_held(client, shoes, pixelpush, shoes_link) -> None:
    click = click_make(shoes, pixelpush, ip="34.117.59.81", country="US")
    _assert_held_for(*_convert(client, click), "datacenter_asn", "GOOGLE-CLOUD")


def test_a_duplicate_click_is_held(client, shoes, pixelpush, shoes_link) -> None:
    click = click_make(shoes, pixelpush, is_unique=False)
    _assert_held_for(*_convert(client, click), "duplicate_click", "not unique")


def test_a_click_from_a_flood_is_held(client, shoes, pixelpush, shoes_link) -> None:
    click = click_make(shoes, pixelpush, fraud_flags=["click_flood"])
    _assert_held_for(*_convert(client, click), "click_flood", "too many clicks")


def test_a_conversion_faster_than_the_offer_minimum_is_held(client, shoes, pixelpush, shoes_link) -> None:
    Offer.objects.filter(pk=shoes.pk).update(min_click_to_conversion_seconds=30)
    click = click_make(shoes, pixelpush, ago=timedelta(seconds=3))
    _assert_held_for(*_convert(client, click), "click_to_conversion_too_fast", "minimum 30s")


def test_a_conversion_slower_than_the_offer_maximum_is_rejected_as_its_label_says(
    client, shoes, pixelpush, shoes_link
) -> None:
    Offer.objects.filter(pk=shoes.pk).update(max_click_to_conversion_seconds=3600)
    click = click_make(shoes, pixelpush, ago=timedelta(hours=5))
    body, conv = _convert(client, click, status="approved")
    assert (body["result"], body["reason"], body["status"]) == (
        "rejected",
        "click_to_conversion_too_slow",
        "rejected",
    )
    assert (conv.status, conv.reason, conv.held_for_review) == (
        "rejected",
        "click_to_conversion_too_slow",
        False,
    )
    assert "maximum 3600s" in conv.trace["rejection"]["detail"]
    # Rejected by our rule: the advertiser's later approval cannot revive it.
    assert conv.is_system_rejected


def test_a_conversion_slower_than_the_maximum_is_held_when_the_offer_says_hold(
    client, shoes, pixelpush, shoes_link
) -> None:
    Offer.objects.filter(pk=shoes.pk).update(
        max_click_to_conversion_seconds=3600, slow_conversion_action=Offer.SlowConversion.HOLD
    )
    click = click_make(shoes, pixelpush, ago=timedelta(hours=5))
    _assert_held_for(*_convert(client, click), "click_to_conversion_too_slow", "maximum 3600s")


def test_a_conversion_within_the_maximum_is_not_touched(client, shoes, pixelpush, shoes_link) -> None:
    Offer.objects.filter(pk=shoes.pk).update(max_click_to_conversion_seconds=3600)
    click = click_make(shoes, pixelpush, ago=timedelta(minutes=30))
    body, conv = _convert(client, click)
    assert (body["result"], conv.status, conv.held_for_review, conv.fraud_flags) == (
        "accepted",
        "pending",
        False,
        [],
    )


def test_a_click_that_was_not_sent_to_the_offer_is_held(client, shoes, pixelpush, shoes_link) -> None:
    click = click_make(shoes, pixelpush, reason="geo_mismatch")
    _assert_held_for(*_convert(client, click), "invalid_click", "geo_mismatch")


def test_a_pixel_without_a_cookie_is_held(client, shoes, shoes_click) -> None:
    client.get(f"/p/{shoes.id}.gif", {"goal": "lead"}, REMOTE_ADDR=HOME_IP, HTTP_USER_AGENT=CHROME_UA)
    conv = Conversion.objects.get()
    _assert_held_for(
        {"result": "accepted", "flags": conv.fraud_flags}, conv, "pixel_without_cookie", "no click cookie"
    )


def test_a_pixel_from_another_country_than_the_click_is_held(client, shoes, shoes_click) -> None:
    client.cookies[click_cookie_name(shoes.id)] = shoes_click.id.hex
    client.get(f"/p/{shoes.id}.gif", {"goal": "lead"}, REMOTE_ADDR="89.160.20.112", HTTP_USER_AGENT=CHROME_UA)
    conv = Conversion.objects.get()
    _assert_held_for({"result": "accepted", "flags": conv.fraud_flags}, conv, "country_mismatch", "GB")
    assert conv.country == "SE"


def test_a_pixel_fired_by_a_bot_is_held(client, shoes, shoes_click) -> None:
    client.cookies[click_cookie_name(shoes.id)] = shoes_click.id.hex
    client.get(f"/p/{shoes.id}.gif", {"goal": "lead"}, REMOTE_ADDR=HOME_IP, HTTP_USER_AGENT="curl/8.0")
    conv = Conversion.objects.get()
    _assert_held_for({"result": "accepted", "flags": conv.fraud_flags}, conv, "bot_user_agent", "the pixel's")


def test_a_flagged_conversion_is_never_auto_approved(client, shoes, pixelpush, shoes_link) -> None:
    click = click_make(shoes, pixelpush, is_unique=False)
    body, conv = _convert(client, click, txn_id="F-1", status="approved")
    assert (body["status"], conv.held_for_review) == ("pending", True)
    later = postback(client, txn_id="F-1", status="approved").json()
    assert (later["result"], later["reason"], later["status"]) == ("rejected", "held_for_review", "pending")
    reversal = postback(client, txn_id="F-1", status="reversed").json()
    assert reversal["result"] == "updated"


def test_the_trace_names_the_goal_and_the_price_that_applied(client, shoes, pixelpush, shoes_click) -> None:
    from decimal import Decimal

    from affiliates.tests import factories as f

    custom = f.CustomPayoutFactory(
        offer=shoes, publisher=pixelpush, goal=shoes.goals.get(code="lead"), payout=Decimal("1.75")
    )
    _, conv = _convert(client, shoes_click)
    assert conv.trace["goal"]["code"] == "lead"
    assert conv.trace["price"]["source"] == f"custom_payout:{custom.id}"
    assert conv.trace["price"]["payout"] == "1.75"
    assert conv.trace["verdict"] == {"status": "pending", "reason": "", "held_for_review": False}
