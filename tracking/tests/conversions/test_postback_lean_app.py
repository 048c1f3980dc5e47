"""/postback served by the lean WSGI app (production) answers exactly as through Django."""

from __future__ import annotations

import io
import json
from typing import Any
from urllib.parse import urlencode

import pytest

from conftest import ACME_POSTBACK_TOKEN
from tracking.clickpath.wsgi import ClickApp
from tracking.models import Conversion

# The lean app opens and closes database connections per request as Django's handler does.
pytestmark = pytest.mark.django_db(transaction=True)


def lean(query: dict[str, str], method: str = "GET", body: bytes = b"", ctype: str = "") -> Any:
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        seen["status"], seen["headers"] = status, headers

    def django_must_not_serve(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        raise AssertionError("/postback went through Django's handler")

    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": "/postback",
        "QUERY_STRING": urlencode(query),
        "REMOTE_ADDR": "81.2.69.160",
        "CONTENT_TYPE": ctype,
        "CONTENT_LENGTH": str(len(body)),
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
    }
    out = b"".join(ClickApp(django_must_not_serve)(environ, start_response))
    return seen["status"], dict(seen["headers"]), out


def test_the_lean_app_accepts_a_postback_like_the_django_view(shoes_click) -> None:
    status, headers, body = lean(
        {"token": ACME_POSTBACK_TOKEN, "click_id": shoes_click.id.hex, "amount": "120.00", "txn_id": "L-1"}
    )
    assert status == "200 OK"
    assert headers["Content-Type"] == "application/json"
    assert headers["Cache-Control"] == "no-store"
    answer = json.loads(body)
    assert answer["result"] == "accepted"
    assert Conversion.objects.get(pk=answer["conversion_id"]).txn_id == "L-1"


def test_the_lean_app_answers_a_duplicate_and_a_bad_token_like_the_django_view(client, shoes_click) -> None:
    params = {"token": ACME_POSTBACK_TOKEN, "click_id": shoes_click.id.hex, "amount": "5", "txn_id": "L-2"}
    first = json.loads(lean(params)[2])
    status, _, body = lean(params)
    via_django = client.get("/postback", params)
    assert status == "200 OK"
    assert json.loads(body) == via_django.json()
    assert json.loads(body)["conversion_id"] == first["conversion_id"]
    status, _, body = lean({**params, "token": "wrong"})
    via_django = client.get("/postback", {**params, "token": "wrong"})
    assert status.startswith(str(via_django.status_code))
    assert json.loads(body) == via_django.json()


def test_the_lean_app_takes_a_json_post(shoes_click) -> None:
    payload = json.dumps({"click_id": shoes_click.id.hex, "amount": "9.50", "txn_id": "L-3"}).encode()
    status, _, body = lean({"token": ACME_POSTBACK_TOKEN}, "POST", payload, "application/json")
    assert status == "200 OK"
    assert json.loads(body)["result"] == "accepted"
    assert Conversion.objects.get(txn_id="L-3").amount == 9.5
