"""HMAC-signed postbacks: accepted when right, and forged, stale or replayed ones refused."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tracking.models import Conversion, ConversionEvent
from tracking.tests.conversions.conftest import signed
from tracking.tests.factories import click_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(edge: Any) -> Any:
    """Postbacks (and the pixel behind them) through the edge, as the app server serves them."""
    return edge


def test_a_correctly_signed_postback_is_accepted(client, acme, shoes_click) -> None:
    params = signed(acme.hmac_secret, click_id=shoes_click.id.hex, amount="20.00", txn_id="S-1")
    body = client.get("/postback", params).json()
    assert body["result"] == "accepted"
    assert Conversion.objects.get().trace["request"]["auth"] == "signature"


def test_a_signed_json_post_is_accepted(client, acme, shoes_click) -> None:
    params = signed(acme.hmac_secret, click_id=shoes_click.id.hex, goal="lead")
    response = client.post("/postback", params, content_type="application/json")
    assert response.json()["result"] == "accepted"


def test_a_forged_signature_is_a_401(client, acme, shoes_click) -> None:
    params = signed("not-the-secret", click_id=shoes_click.id.hex, amount="20.00")
    response = client.get("/postback", params)
    assert (response.status_code, response.json()["reason"]) == (401, "bad_signature")


def test_a_tampered_amount_breaks_the_signature(client, acme, shoes_click) -> None:
    params = signed(acme.hmac_secret, click_id=shoes_click.id.hex, amount="20.00")
    params["amount"] = "2000.00"
    response = client.get("/postback", params)
    assert (response.status_code, response.json()["reason"]) == (401, "bad_signature")
    assert Conversion.objects.count() == 0


@pytest.mark.parametrize("skew", [-301, 301, 100_000])
def test_a_stale_timestamp_is_a_401(client, acme, shoes_click, skew) -> None:
    params = signed(acme.hmac_secret, click_id=shoes_click.id.hex, amount="1", ts=int(time.time()) + skew)
    response = client.get("/postback", params)
    assert (response.status_code, response.json()["reason"]) == (401, "stale_timestamp")


@pytest.mark.parametrize(
    ("ts", "answer"), [("²", (401, "stale_timestamp")), ("1" * 5000, (400, "bad_parameter"))]
)
def test_a_timestamp_int_cannot_read_is_a_4xx_not_a_crash(client, acme, shoes_click, ts, answer) -> None:
    """ "²".isdigit() is true and int("²") a ValueError (make fuzz's class: tests/test_input_bounds.py)."""
    params = signed(acme.hmac_secret, click_id=shoes_click.id.hex, amount="1", ts=ts)
    response = client.get("/postback", params)
    assert (response.status_code, response.json()["reason"]) == answer


def test_a_timestamp_inside_the_tolerance_is_accepted(client, acme, shoes_click) -> None:
    params = signed(acme.hmac_secret, click_id=shoes_click.id.hex, amount="1", ts=int(time.time()) - 290)
    assert client.get("/postback", params).json()["result"] == "accepted"


def test_a_signed_postback_sent_again_is_a_duplicate_of_the_first(client, acme, shoes_click) -> None:
    """Its answer was lost and the advertiser retries the very same signed request."""
    params = signed(acme.hmac_secret, click_id=shoes_click.id.hex, amount="20.00", txn_id="S-2")
    first = client.get("/postback", params).json()
    assert first["result"] == "accepted"
    replay = client.get("/postback", params)
    assert replay.status_code == 200
    assert (replay.json()["result"], replay.json()["conversion_id"]) == ("duplicate", first["conversion_id"])
    assert Conversion.objects.count() == 1


def test_a_resent_signature_without_txn_id_records_nothing_more(client, acme, shoes, pixelpush) -> None:
    """No txn_id, so no unique key would catch it: the signature does."""
    shoes.goals.filter(code="lead").update(allow_multiple=True)

    click = click_make(shoes, pixelpush)
    params = signed(acme.hmac_secret, click_id=click.id.hex, goal="lead")
    first = client.get("/postback", params).json()
    again = client.get("/postback", params).json()
    assert (again["result"], again["conversion_id"]) == ("duplicate", first["conversion_id"])
    assert Conversion.objects.count() == 1


def test_a_replayed_signed_status_update_is_applied_at_most_once(client, acme, shoes_click) -> None:
    created = client.get(
        "/postback", signed(acme.hmac_secret, click_id=shoes_click.id.hex, amount="20", txn_id="S-4")
    ).json()
    approve = signed(acme.hmac_secret, txn_id="S-4", status="approved", advertiser=acme.pk)
    assert client.get("/postback", approve).json()["result"] == "updated"
    reverse = signed(acme.hmac_secret, txn_id="S-4", status="reversed", advertiser=acme.pk)
    assert client.get("/postback", reverse).json()["result"] == "updated"
    replay = client.get("/postback", approve)
    assert replay.status_code == 200
    assert (replay.json()["result"], replay.json()["conversion_id"], replay.json()["status"]) == (
        "duplicate",
        created["conversion_id"],
        "reversed",
    )
    assert Conversion.objects.get().status == "reversed"
    assert ConversionEvent.objects.filter(to_status="approved").count() == 1


def test_a_signature_that_failed_to_store_can_be_retried(client, acme, shoes_click) -> None:
    from unittest import mock

    from django.db import OperationalError

    params = signed(acme.hmac_secret, click_id=shoes_click.id.hex, amount="20.00", txn_id="S-3")
    with mock.patch.object(Conversion, "save", side_effect=OperationalError("down")):
        assert client.get("/postback", params).status_code == 503
    assert client.get("/postback", params).json()["result"] == "accepted"


def test_a_signed_postback_for_an_unknown_click_needs_the_advertiser_parameter(client, acme) -> None:
    anonymous = client.get("/postback", signed(acme.hmac_secret, click_id="0" * 32, amount="1"))
    assert (anonymous.status_code, anonymous.json()["reason"]) == (401, "unknown_advertiser")
    named = client.get(
        "/postback", signed(acme.hmac_secret, click_id="0" * 32, amount="1", advertiser=acme.id)
    )
    assert (named.status_code, named.json()["reason"]) == (200, "unknown_click")
    assert Conversion.objects.get().advertiser_id == acme.id


def test_signing_with_another_advertisers_secret_is_refused(client, globex, shoes_click) -> None:
    params = signed(globex.hmac_secret, click_id=shoes_click.id.hex, amount="1", advertiser=globex.id)
    response = client.get("/postback", params)
    assert (response.status_code, response.json()["reason"]) == (403, "wrong_advertiser")
