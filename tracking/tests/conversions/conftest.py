"""Fixtures for the conversion tests: clicks made directly (never through the click endpoint),
a postback helper and a fresh catalog cache per test. Postbacks go through the root conftest's
``edge`` (the app server's one path for ``/postback``)."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

import pytest

from affiliates.models import Offer, Publisher
from conftest import ACME_POSTBACK_TOKEN
from tracking.conversions.auth import signature_base
from tracking.models import Click
from tracking.tests.asgi_driver import EdgeClient
from tracking.tests.factories import click_make

# The 503 body of a postback that could not be stored (contract section 3: the advertiser retries).
STORAGE_UNAVAILABLE = {
    "result": "error",
    "conversion_id": None,
    "status": None,
    "reason": "storage_unavailable",
    "flags": [],
    "message": "Not stored; retry later.",
}


@pytest.fixture
def shoes_click(shoes: Offer, pixelpush: Publisher, shoes_link: Any) -> Click:
    return click_make(shoes, pixelpush)


def postback(client: EdgeClient, **params: Any) -> Any:
    """GET /postback with acme's token unless ``token`` is given (None drops it)."""
    params.setdefault("token", ACME_POSTBACK_TOKEN)
    params = {k: v for k, v in params.items() if v is not None}
    return client.get("/postback", params)


def signed(secret: str, **params: Any) -> dict[str, str]:
    params = {k: str(v) for k, v in params.items()}
    params.setdefault("ts", str(int(time.time())))
    params["sig"] = hmac.new(secret.encode(), signature_base(params).encode(), hashlib.sha256).hexdigest()
    return params
