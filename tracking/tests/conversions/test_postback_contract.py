"""Contract section 3: every result, status code and reason of /postback."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any
from unittest import mock

import psycopg
import pytest
from django.db import OperationalError

from affiliates.models import Goal, Offer, OfferAccess
from affiliates.tests import factories as f
from tracking.conversions.aio_db import LoopDatabase
from tracking.models import Conversion, ConversionEvent, UnreconciledConversion
from tracking.tests.conversions.conftest import postback
from tracking.tests.factories import click_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(edge: Any) -> Any:
    """Postbacks (and the pixel behind them) through the edge, as the app server serves them."""
    return edge


def test_it_accepts_a_sale_and_answers_with_the_contract_body(client, shoes_click) -> None:
    response = postback(client, click_id=shoes_click.id.hex, amount="120.00", txn_id="ORD-1")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"result", "conversion_id", "status", "reason", "flags"}
    assert body["result"] == "accepted"
    assert body["status"] == "pending"
    assert body["reason"] is None
    assert body["flags"] == []
    assert response["Cache-Control"] == "no-store"
    conv = Conversion.objects.get(pk=body["conversion_id"])
    assert conv.goal.code == "sale"  # the offer's default goal
    assert conv.amount == Decimal("120.00")
    assert conv.currency == "USD"
    assert conv.publisher_id == shoes_click.publisher_id
    assert conv.click_id == shoes_click.id
    assert conv.sub1 == "campaign-7"
    assert UnreconciledConversion.objects.filter(conversion=conv).exists()  # handed to payouts
    assert conv.trace["price"]["payout"] == "9.60"  # 8 % of 120
    assert conv.trace["price"]["revenue"] == "14.40"


def test_it_takes_a_form_post_and_a_json_post_and_refuses_a_multipart_one(client, shoes_click) -> None:
    fields = {"click_id": shoes_click.id.hex, "goal": "lead", "token": "acme-postback-token-0123456789"}
    multipart = client.post("/postback", fields)  # Django's test client: multipart by default
    assert (multipart.status_code, multipart.json()["reason"]) == (400, "unsupported_body")
    form = client.post("/postback", fields, content_type="application/x-www-form-urlencoded")
    assert form.json()["result"] == "accepted"
    json_body = client.post(
        "/postback",
        {
            "click_id": shoes_click.id.hex,
            "amount": 80.5,
            "txn_id": "J-1",
            "token": "acme-postback-token-0123456789",
        },
        content_type="application/json",
    )
    assert json_body.json()["result"] == "accepted"
    assert Conversion.objects.get(txn_id="J-1").amount == Decimal("80.5")


def test_a_repeated_txn_id_is_a_duplicate_with_the_original_id(client, shoes_click) -> None:
    first = postback(client, click_id=shoes_click.id.hex, amount="10", txn_id="ORD-9").json()
    again = postback(client, click_id=shoes_click.id.hex, amount="99", txn_id="ORD-9").json()
    assert again["result"] == "duplicate"
    assert again["conversion_id"] == first["conversion_id"]
    assert Conversion.objects.count() == 1
    assert Conversion.objects.get().amount == Decimal("10")


def test_without_txn_id_a_click_converts_once_per_goal(client, shoes_click) -> None:
    first = postback(client, click_id=shoes_click.id.hex, goal="lead").json()
    again = postback(client, click_id=shoes_click.id.hex, goal="lead").json()
    other_goal = postback(client, click_id=shoes_click.id.hex, amount="5").json()
    assert (first["result"], again["result"], other_goal["result"]) == ("accepted", "duplicate", "accepted")
    assert again["conversion_id"] == first["conversion_id"]


def test_a_goal_that_allows_repeats_converts_again_on_the_same_click(client, shoes, shoes_click) -> None:
    Goal.objects.filter(offer=shoes, code="lead").update(allow_multiple=True)
    results = [postback(client, click_id=shoes_click.id.hex, goal="lead").json()["result"] for _ in range(3)]
    assert results == ["accepted"] * 3


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"amount": "12,50"}, "bad_amount"),
        ({"amount": "-1"}, "bad_amount"),
        ({"amount": "NaN"}, "bad_amount"),
        ({}, "missing_amount"),  # sale is CPS
        ({"goal": "nope"}, "unknown_goal"),
        ({"amount": "5", "currency": "XYZ"}, "unknown_currency"),
        ({"amount": "5", "status": "paid"}, "bad_status"),
        ({"amount": "5", "txn_id": "x" * 256}, "bad_txn_id"),
    ],
)
def test_malformed_input_is_a_400_with_a_reason(client, shoes_click, params, reason) -> None:
    response = postback(client, click_id=shoes_click.id.hex, **params)
    assert response.status_code == 400
    assert response.json()["reason"] == reason
    assert response.json()["result"] == "error"
    assert Conversion.objects.count() == 0


def test_a_missing_or_malformed_click_id_is_a_400(client, shoes_click) -> None:
    assert postback(client, amount="5").json()["reason"] == "missing_click_id"
    bad = postback(client, click_id="{click_id}", amount="5")
    assert (bad.status_code, bad.json()["reason"]) == (400, "bad_click_id")


def test_a_cpc_goal_cannot_take_a_conversion(client, shoes, shoes_click) -> None:
    f.GoalFactory(offer=shoes, code="visit", payout_type=Goal.PayoutType.CPC)
    response = postback(client, click_id=shoes_click.id.hex, goal="visit")
    assert (response.status_code, response.json()["reason"]) == (400, "goal_not_convertible")


def test_a_parameter_given_twice_with_different_values_is_a_400(client, shoes_click) -> None:
    response = client.get(
        f"/postback?click_id={shoes_click.id.hex}&amount=5&amount=6&token=acme-postback-token-0123456789"
    )
    assert (response.status_code, response.json()["reason"]) == (400, "bad_parameter")


@pytest.mark.parametrize("offer", ["²", "1" * 5000])
def test_an_offer_id_int_cannot_read_is_a_400(client, shoes_click, offer) -> None:
    response = postback(client, click_id=shoes_click.id.hex, amount="5", offer=offer)
    assert (response.status_code, response.json()["reason"]) == (400, "bad_parameter")


def test_a_broken_json_body_is_a_400(client, shoes_click) -> None:
    response = client.post("/postback", "{not json", content_type="application/json")
    assert (response.status_code, response.json()["reason"]) == (400, "bad_parameter")


def test_a_missing_or_wrong_token_is_a_401(client, shoes_click) -> None:
    missing = postback(client, click_id=shoes_click.id.hex, amount="5", token=None)
    wrong = postback(client, click_id=shoes_click.id.hex, amount="5", token="guess")
    assert (missing.status_code, missing.json()["reason"]) == (401, "missing_credentials")
    assert (wrong.status_code, wrong.json()["reason"]) == (401, "bad_token")
    assert Conversion.objects.count() == 0


def test_another_advertisers_token_is_a_403(client, shoes_click, globex) -> None:
    token = globex.rotate_postback_token()
    globex.save()
    response = postback(client, click_id=shoes_click.id.hex, amount="5", token=token)
    assert (response.status_code, response.json()["reason"]) == (403, "wrong_advertiser")


def test_an_address_off_the_allowlist_is_a_403(client, acme, shoes_click) -> None:
    acme.ip_allowlist = ["203.0.113.0/24"]
    acme.save()
    refused = postback(client, click_id=shoes_click.id.hex, amount="5")
    assert (refused.status_code, refused.json()["reason"]) == (403, "ip_not_allowed")
    allowed = client.get(
        "/postback",
        {"click_id": shoes_click.id.hex, "amount": "5", "token": "acme-postback-token-0123456789"},
        REMOTE_ADDR="203.0.113.7",
    )
    assert allowed.json()["result"] == "accepted"


def test_the_allowlist_reads_x_forwarded_for_only_from_a_trusted_proxy(client, acme, shoes_click, settings):
    acme.ip_allowlist = ["203.0.113.7"]
    acme.save()
    params = {"click_id": shoes_click.id.hex, "amount": "5", "token": "acme-postback-token-0123456789"}
    spoofed = client.get("/postback", params, HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert spoofed.status_code == 403
    settings.TRUSTED_PROXIES = ["127.0.0.0/8"]
    proxied = client.get("/postback", params, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert proxied.json()["result"] == "accepted"


def test_an_unknown_click_is_rejected_and_kept_for_audit(client, acme) -> None:
    response = postback(client, click_id="0" * 32, amount="5", txn_id="T-1")
    body = response.json()
    assert (response.status_code, body["result"], body["reason"]) == (200, "rejected", "unknown_click")
    conv = Conversion.objects.get(pk=body["conversion_id"])
    assert (conv.status, conv.advertiser_id, conv.offer_id) == ("rejected", acme.id, None)
    assert conv.trace["rejection"]["reason"] == "unknown_click"


def test_a_click_older_than_the_window_is_rejected(client, shoes, pixelpush, shoes_link) -> None:
    old = click_make(shoes, pixelpush, ago=timedelta(days=31))
    body = postback(client, click_id=old.id.hex, amount="5").json()
    assert (body["result"], body["reason"], body["status"]) == ("rejected", "window_expired", "rejected")


def test_a_paused_offer_rejects_conversions(client, shoes, shoes_click) -> None:
    Offer.objects.filter(pk=shoes.pk).update(status=Offer.Status.PAUSED)
    body = postback(client, click_id=shoes_click.id.hex, amount="5").json()
    assert (body["result"], body["reason"]) == ("rejected", "offer_inactive")


def test_a_publisher_no_longer_approved_earns_nothing(client, shoes_link, shoes_click) -> None:
    OfferAccess.objects.filter(pk=shoes_link.pk).update(status=OfferAccess.Status.REJECTED)
    body = postback(client, click_id=shoes_click.id.hex, amount="5").json()
    assert (body["result"], body["reason"]) == ("rejected", "not_approved")
    assert Conversion.objects.get().trace["rejection"]["detail"] == "access is rejected"


def test_a_reversal_on_a_known_txn_id_is_appended_as_an_event(client, shoes_click) -> None:
    created = postback(client, click_id=shoes_click.id.hex, amount="50", txn_id="R-1").json()
    UnreconciledConversion.objects.all().delete()  # as if payouts had reconciled it
    reversed_ = postback(client, txn_id="R-1", status="reversed").json()
    assert (reversed_["result"], reversed_["status"]) == ("updated", "reversed")
    assert reversed_["conversion_id"] == created["conversion_id"]
    conv = Conversion.objects.with_reconciled().get()
    assert conv.reconciled is False  # queued again: payouts must bring the commission along
    event = ConversionEvent.objects.exclude(from_status="").get()
    assert (event.from_status, event.to_status, event.actor) == (
        "pending",
        "reversed",
        f"advertiser:{conv.advertiser_id}",
    )
    again = postback(client, txn_id="R-1", status="reversed").json()
    assert again["result"] == "duplicate"
    assert ConversionEvent.objects.count() == 2  # its creation, and the reversal once


def test_approve_then_reverse_keeps_the_whole_history(client, shoes_click) -> None:
    postback(client, click_id=shoes_click.id.hex, amount="50", txn_id="H-1")
    assert postback(client, txn_id="H-1", status="approved").json()["result"] == "updated"
    assert postback(client, txn_id="H-1", status="reversed").json()["result"] == "updated"
    assert list(ConversionEvent.objects.values_list("from_status", "to_status")) == [
        ("", "pending"),
        ("pending", "approved"),
        ("approved", "reversed"),
    ]


def test_a_status_for_an_unknown_txn_id_is_a_400(client, shoes_click) -> None:
    response = postback(client, txn_id="NOPE", status="reversed")
    assert (response.status_code, response.json()["reason"]) == (400, "unknown_txn_id")


def test_a_new_conversion_may_arrive_already_approved(client, shoes_click) -> None:
    body = postback(client, click_id=shoes_click.id.hex, amount="5", txn_id="A-1", status="approved").json()
    assert (body["result"], body["status"]) == ("accepted", "approved")


def test_a_rule_rejected_conversion_cannot_be_revived_by_a_status(client, shoes, shoes_click) -> None:
    Offer.objects.filter(pk=shoes.pk).update(status=Offer.Status.PAUSED)
    postback(client, click_id=shoes_click.id.hex, amount="5", txn_id="P-1")
    body = postback(client, txn_id="P-1", status="approved").json()
    assert (body["result"], body["reason"], body["status"]) == ("rejected", "not_updatable", "rejected")


def test_a_write_that_fails_answers_503_and_never_200(client, shoes_click) -> None:
    with (
        mock.patch.object(Conversion, "save", side_effect=OperationalError("connection refused")),
        # The edge's own INSERT (its loop's database is made at its first postback, so here).
        mock.patch.object(LoopDatabase, "_conversions_insert", side_effect=psycopg.OperationalError("gone")),
    ):
        response = postback(client, click_id=shoes_click.id.hex, amount="5")
    assert response.status_code == 503
    assert response.json()["reason"] == "storage_unavailable"
    assert Conversion.objects.count() == 0


def test_other_methods_are_refused(client) -> None:
    assert client.put("/postback").status_code == 405
