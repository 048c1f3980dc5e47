"""A postback whose text cannot be stored (a NUL byte, bytes that are not UTF-8, a lone
surrogate in JSON) is malformed input: 400 ``bad_encoding``, nothing recorded. It used to
reach the database and answer 503, so the advertiser's server retried it forever."""

from __future__ import annotations

from typing import Any

import pytest

from affiliates.models import Goal
from conftest import ACME_POSTBACK_TOKEN
from tracking.models import Conversion

pytestmark = pytest.mark.django_db(transaction=True)

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


def _refused(response: Any) -> None:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["reason"] == "bad_encoding"
    assert body["result"] == "error"
    assert Conversion.objects.count() == 0


@pytest.fixture
def base(shoes_click) -> str:
    return f"token={ACME_POSTBACK_TOKEN}&click_id={shoes_click.id.hex}&amount=10"


@pytest.mark.parametrize(
    "extra",
    [
        "txn_id=A%00B",  # a NUL in a value
        "txn_id=%00",
        "sub%00=1",  # a NUL in a name
        "txn_id=%FF%FE",  # percent-escaped bytes that are not UTF-8
        "txn_id=caf%E9",  # Latin-1, not UTF-8
        "goal=%C0%AE",  # an overlong UTF-8 form
    ],
)
def test_a_query_string_that_is_not_text_is_a_400(edge, base, extra) -> None:
    _refused(edge.get(f"/postback?{base}&{extra}"))


@pytest.mark.parametrize(
    "body",
    [
        b"txn_id=A\x00B",  # a raw NUL byte
        b"txn_id=A%00B",
        b"txn_id=\xff\xfe",  # raw bytes that are not UTF-8
        b"txn_id=caf\xe9",
    ],
)
def test_a_form_body_that_is_not_text_is_a_400(edge, base, body) -> None:
    _refused(edge.post(f"/postback?{base}", body, content_type=FORM))


@pytest.mark.parametrize(
    "body",
    [
        b'{"txn_id": "A\\u0000B"}',  # a NUL escaped in JSON
        b'{"txn_id": "\\ud800"}',  # a lone surrogate: valid JSON, not storable text
        b'{"txn_\\u0000id": "A"}',
        b'{"txn_id": "\xff"}',  # raw bytes that are not UTF-8
    ],
)
def test_a_json_body_that_is_not_text_is_a_400(edge, base, body) -> None:
    _refused(edge.post(f"/postback?{base}", body, content_type=JSON))


def test_text_in_any_script_is_still_accepted(edge, base) -> None:
    Goal.objects.update(allow_multiple=True)  # two conversions of one click, by txn_id
    response = edge.get(f"/postback?{base}&txn_id=caf%C3%A9-%E6%B3%A8%E6%96%87-%F0%9F%91%9F")
    assert response.status_code == 200, response.content
    assert response.json()["result"] == "accepted"
    assert Conversion.objects.get().txn_id == "café-注文-👟"
    body = b'{"txn_id": "\\u00e9-2"}'
    assert edge.post(f"/postback?{base}", body, content_type=JSON).json()["result"] == "accepted"
