"""Hostile input gets a clear 4xx, never a 500 (issue 13): one regression test per class of
server error schemathesis found (tests/fuzz runs it), each on both databases."""

from __future__ import annotations

from datetime import timedelta, timezone
from typing import Any

import pytest
from django.utils import timezone as dj_timezone

from affiliates.models import Offer, Publisher
from payouts.tests.factories_callbacks import CallbackEndpointFactory

pytestmark = pytest.mark.django_db

FAR_EAST = timezone(timedelta(hours=23, minutes=21))  # Python allows it; PostgreSQL stops at 15:59


def _offer_ids(response: Any) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


# --- Datetime filters ---------------------------------------------------------------------


def test_a_datetime_filter_with_a_utc_offset_beyond_15_59_is_read_as_the_same_instant(
    nadia: Any, shoes: Offer, api_as: Any
) -> None:
    api = api_as(nadia)
    before = (dj_timezone.now() - timedelta(hours=1)).astimezone(FAR_EAST).isoformat()
    after = (dj_timezone.now() + timedelta(hours=1)).astimezone(FAR_EAST).isoformat()
    assert _offer_ids(api.get("/api/v1/offers/", {"created_after": before})) == {shoes.pk}
    assert _offer_ids(api.get("/api/v1/offers/", {"created_after": after})) == set()
    assert api.get("/api/v1/conversions/", {"created_before": after}).status_code == 200
    assert api.get("/api/v1/ledger/entries/", {"created_at__lt": after}).status_code == 200


def test_a_datetime_filter_outside_the_calendar_in_utc_is_a_400(nadia: Any, api_as: Any) -> None:
    response = api_as(nadia).get("/api/v1/offers/", {"created_after": "0001-01-01T00:00:00+05:00"})
    assert response.status_code == 400
    assert response.json()["code"] == "bad_datetime"
    assert "created_after" in response.json()["fields"]


# --- Ids in URLs and forms ----------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_a_non_numeric_offer_target_id_is_a_json_404(
    method: str, ada: Any, shoes: Offer, api_as: Any
) -> None:
    response = getattr(api_as(ada), method)("/api/v1/offer-targets/abc/", {"conversions": 5}, format="json")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"code": "not_found", "message": "Not found."}


def test_every_api_router_refuses_a_non_numeric_id(nadia: Any, api_as: Any) -> None:
    api = api_as(nadia)
    for path in ["offers/null,null/", "commissions/abc/", "payout-runs/1e3/", "postback-endpoints/x/test/"]:
        response = api.get(f"/api/v1/{path}")
        assert response.status_code == 404, path
        assert response.json()["code"] == "not_found"


def test_the_portal_postback_test_with_a_non_numeric_endpoint_is_a_404(
    client: Any, pia: Any, pixelpush: Publisher
) -> None:
    CallbackEndpointFactory(publisher=pixelpush)
    client.force_login(pia)
    for field in ["endpoint", "delivery"]:
        do = "test" if field == "endpoint" else "resend"
        response = client.post("/publisher/postbacks/", {"do": do, field: "abc"})
        assert response.status_code == 404


# --- Text that cannot be stored -------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/api/v1/reports/", "sub1=a%00b"),
        ("/api/v1/reports/", "country=%00"),
        ("/api/v1/offers/", "search=%00"),
        ("/api/v1/conversions/", "txn_id=a%00"),
        ("/api/v1/offers/", "search=%ff%fe"),
    ],
)
def test_a_nul_byte_or_bad_utf8_in_a_query_is_a_400_bad_encoding(
    path: str, query: str, nadia: Any, api_as: Any
) -> None:
    response = api_as(nadia).get(f"{path}?{query}")
    assert response.status_code == 400
    assert response.json()["code"] == "bad_encoding"


def test_a_nul_byte_in_a_json_or_form_body_is_a_400_bad_encoding(
    nadia: Any, shoes: Offer, api_as: Any
) -> None:
    api = api_as(nadia)
    json_body = '{"name": "Shoes\\u0000"}'
    response = api.patch(f"/api/v1/offers/{shoes.pk}/", json_body, content_type="application/json")
    assert (response.status_code, response.json()["code"]) == (400, "bad_encoding")
    form = "name=Shoes%00"
    response = api.patch(
        f"/api/v1/offers/{shoes.pk}/", form, content_type="application/x-www-form-urlencoded"
    )
    assert (response.status_code, response.json()["code"]) == (400, "bad_encoding")
    escaped_backslash = '{"name": "C:\\\\u0000"}'  # the text \u0000, not a NUL: allowed
    response = api.patch(f"/api/v1/offers/{shoes.pk}/", escaped_backslash, content_type="application/json")
    assert response.status_code == 200
    shoes.refresh_from_db()
    assert shoes.name == "C:\\u0000"


BOUNDARY = "fuzzboundary7"


def _multipart(*parts: tuple[bytes, bytes]) -> bytes:
    """A multipart/form-data body from (Content-Disposition, content) pairs, byte for byte."""
    out = b""
    for disposition, content in parts:
        out += b"--" + BOUNDARY.encode() + b"\r\nContent-Disposition: " + disposition + b"\r\n\r\n"
        out += content + b"\r\n"
    return out + b"--" + BOUNDARY.encode() + b"--\r\n"


@pytest.mark.parametrize(
    "body",
    [
        _multipart((b'form-data; name="name"', b"Shoes\x00")),
        _multipart((b'form-data; name="name"', b"Shoes \xff\xfe")),
        _multipart((b'form-data; name="na\xffme"', b"Shoes")),
        _multipart((b'form-data; name="file"; filename="a\x00.csv"', b"x")),
        _multipart((b'form-data; name="file"; filename="\xc3(.csv"', b"x")),
    ],
    ids=["nul-in-field", "bad-utf8-in-field", "bad-utf8-in-name", "nul-in-filename", "bad-utf8-in-filename"],
)
def test_a_nul_byte_or_bad_utf8_in_a_multipart_body_is_a_400_bad_encoding(
    body: bytes, nadia: Any, shoes: Offer, api_as: Any
) -> None:
    name = shoes.name
    response = api_as(nadia).patch(
        f"/api/v1/offers/{shoes.pk}/", body, content_type=f"multipart/form-data; boundary={BOUNDARY}"
    )
    assert (response.status_code, response.json()["code"]) == (400, "bad_encoding")
    shoes.refresh_from_db()
    assert shoes.name == name


def test_a_multipart_body_with_utf8_text_and_a_binary_file_passes_the_check(
    nadia: Any, shoes: Offer, api_as: Any
) -> None:
    body = _multipart(
        (b'form-data; name="name"', "Schuhe für Läufer".encode()),
        (b'form-data; name="attachment"; filename="raw.bin"', b"\x00\xff\xfe binary"),
    )
    response = api_as(nadia).patch(
        f"/api/v1/offers/{shoes.pk}/", body, content_type=f"multipart/form-data; boundary={BOUNDARY}"
    )
    assert response.status_code == 200, response.content
    shoes.refresh_from_db()
    assert shoes.name == "Schuhe für Läufer"


def test_undecodable_bytes_in_a_form_body_are_a_400_bad_encoding(
    nadia: Any, shoes: Offer, api_as: Any
) -> None:
    api = api_as(nadia)
    for form in (b"name=Shoes%ff", b"name=Shoes\xff"):
        response = api.patch(
            f"/api/v1/offers/{shoes.pk}/", form, content_type="application/x-www-form-urlencoded"
        )
        assert (response.status_code, response.json()["code"]) == (400, "bad_encoding")


def test_the_portal_forms_refuse_a_nul_byte_in_a_multipart_or_form_body(client: Any, pia: Any) -> None:
    client.force_login(pia)
    for body, content_type in (
        (_multipart((b'form-data; name="name"', b"Pixel\x00")), f"multipart/form-data; boundary={BOUNDARY}"),
        (b"name=Pixel%00", "application/x-www-form-urlencoded"),
    ):
        response = client.post("/publisher/profile/", body, content_type=content_type)
        assert response.status_code == 400
        assert b"NUL byte" in response.content


def test_the_portals_refuse_a_nul_byte_too(client: Any, pia: Any) -> None:
    client.force_login(pia)
    response = client.get("/publisher/postbacks/?page=%00")
    assert response.status_code == 400


# --- Report filters -----------------------------------------------------------------------


@pytest.mark.parametrize("value", ["\u00b2", "\u0661", "9" * 30])
def test_a_report_id_filter_takes_ascii_digits_within_a_bigint(value: str, nadia: Any, api_as: Any) -> None:
    response = api_as(nadia).get("/api/v1/reports/", {"offer": value})
    assert response.status_code == 400
    assert response.json()["code"] == "bad_filter"


# --- Bodies and parameters that were optional by accident ----------------------------------


def test_putting_network_terms_without_its_fields_is_a_400(nadia: Any, api_as: Any) -> None:
    response = api_as(nadia).put("/api/v1/network-terms/", {}, format="json")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"minimum_payout", "minimum_payout_currency"}


@pytest.mark.parametrize("page_size", ["abc", "0", "-5", "false", "\u00b3"])
def test_a_page_size_that_is_not_a_whole_number_from_1_is_a_400(
    page_size: str, nadia: Any, api_as: Any
) -> None:
    response = api_as(nadia).get("/api/v1/offers/", {"page_size": page_size})
    assert response.status_code == 400
    assert response.json()["code"] == "bad_page_size"
    assert api_as(nadia).get("/api/v1/offers/", {"page_size": "100000"}).status_code == 200  # capped
