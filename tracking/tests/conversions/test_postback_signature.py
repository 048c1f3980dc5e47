"""HMAC-signed postbacks: accepted when right, and forged, stale or replayed ones refused."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tracking.models import Conversion
from tracking.tests.conversions.conftest import signed

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


def test_a_timestamp_inside_the_tolerance_is_accepted(client, acme, shoes_click) -> None:
    params = signed(acme.hmac_secret, click_id=shoes_click.id.hex, amount="1", ts=int(time.time()) - 290)
    assert client.get("/postback", params).json()["result"] == "accepted"


def test_a_replayed_signature_is_a_401(client, acme, shoes_click) -> None:
    params = signed(acme.hmac_secret, click_id=shoes_click.id.hex, amount="20.00", txn_id="S-2")
    assert client.get("/postback", params).json()["result"] == "accepted"
    replay = client.get("/postback", params)
    assert (replay.status_code, replay.json()["reason"]) == (401, "replayed_signature")


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
