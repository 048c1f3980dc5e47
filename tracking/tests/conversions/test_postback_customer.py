"""Postbacks and the pixel may carry ``customer_id`` and ``customer_type`` (issue 15). Both are
optional and change no answer; the id is stored only as the advertiser's keyed hash."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from django.forms.models import model_to_dict

from affiliates.models import Advertiser
from tracking.conversions.customers import customer_hash
from tracking.ids import click_cookie_name
from tracking.models import Conversion
from tracking.tests.conversions.conftest import postback, signed
from tracking.tests.factories import CHROME_UA, HOME_IP, click_make

pytestmark = pytest.mark.django_db(transaction=True)

EMAIL = "jane.doe@example.com"


def _stored_text(conv: Conversion) -> str:
    return json.dumps(model_to_dict(conv), default=str) + json.dumps(conv.trace)


def test_a_customer_id_is_stored_as_the_advertisers_hmac_never_raw(edge, acme, shoes_click) -> None:
    body = postback(edge, click_id=shoes_click.id.hex, amount="20", customer_id=EMAIL).json()
    conv = Conversion.objects.get(pk=body["conversion_id"])
    expected = hmac.new(acme.customer_key.encode(), EMAIL.encode(), hashlib.sha256).hexdigest()
    assert conv.customer_hash == expected
    assert conv.customer_hash != hashlib.sha256(EMAIL.encode()).hexdigest()  # keyed, not a plain hash
    assert EMAIL not in _stored_text(conv)
    assert conv.customer_type is None


def test_the_answer_is_the_same_with_or_without_customer_fields(edge, shoes, pixelpush, shoes_link) -> None:
    plain = postback(edge, click_id=click_make(shoes, pixelpush).id.hex, amount="20")
    rich = postback(
        edge,
        click_id=click_make(shoes, pixelpush).id.hex,
        amount="20",
        customer_id="C-1",
        customer_type="returning",
    )
    assert plain.status_code == rich.status_code == 200
    a, b = plain.json(), rich.json()
    assert a.keys() == b.keys()
    assert {k: v for k, v in a.items() if k != "conversion_id"} == {
        k: v for k, v in b.items() if k != "conversion_id"
    }
    assert Conversion.objects.get(pk=b["conversion_id"]).customer_type == "returning"
    assert Conversion.objects.get(pk=a["conversion_id"]).customer_hash is None


def test_the_same_customer_at_two_advertisers_gets_unrelated_hashes(acme, globex) -> None:
    assert acme.customer_key != globex.customer_key
    assert customer_hash(key=acme.customer_key, customer_id="42") != customer_hash(
        key=globex.customer_key, customer_id="42"
    )
    assert customer_hash(key=acme.customer_key, customer_id="") == ""


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"customer_type": "vip"}, "bad_customer_type"),
        ({"customer_type": "new customer"}, "bad_customer_type"),
        ({"customer_id": "x" * 256}, "bad_customer_id"),
        ({"customer_id": "A\x00B"}, "bad_encoding"),
        ({"customer_type": "new\x00"}, "bad_encoding"),
    ],
)
def test_bad_customer_fields_are_a_400_with_a_reason_and_record_nothing(
    edge, shoes_click, params, reason
) -> None:
    response = postback(edge, click_id=shoes_click.id.hex, amount="20", **params)
    assert response.status_code == 400, response.content
    assert response.json()["reason"] == reason
    assert Conversion.objects.count() == 0


def test_customer_fields_at_their_limits_are_accepted(edge, shoes_click) -> None:
    response = postback(
        edge, click_id=shoes_click.id.hex, amount="20", customer_id="x" * 255, customer_type="NEW"
    )
    assert response.json()["result"] == "accepted"
    conv = Conversion.objects.get()
    assert conv.customer_type == "new"
    assert len(conv.customer_hash) == 64


def test_a_signed_postback_signs_the_customer_fields_too(edge, acme: Advertiser, shoes_click) -> None:
    params = signed(acme.hmac_secret, click_id=shoes_click.id.hex, amount="20", customer_id="C-9")
    assert edge.get("/postback", params).json()["result"] == "accepted"
    params["customer_id"] = "C-10"  # tampered after signing
    assert edge.get("/postback", params).status_code == 401


def test_the_pixel_stores_the_customer_hashed(edge, acme, shoes, shoes_click) -> None:
    edge.cookies[click_cookie_name(shoes.id)] = shoes_click.id.hex
    edge.get(
        f"/p/{shoes.id}.gif",
        {"goal": "sale", "amount": "30", "customer_id": EMAIL, "customer_type": "new"},
        REMOTE_ADDR=HOME_IP,
        HTTP_USER_AGENT=CHROME_UA,
    )
    conv = Conversion.objects.get()
    assert conv.customer_hash == customer_hash(key=acme.customer_key, customer_id=EMAIL)
    assert conv.customer_type == "new"
    assert EMAIL not in _stored_text(conv)
