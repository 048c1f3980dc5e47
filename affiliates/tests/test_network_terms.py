"""The network's minimum payout: staff set the floor, publishers cannot go below it."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from affiliates.models import FxRate, Publisher
from affiliates.network_terms import network_terms_set
from affiliates.tests.signin import sign_in

pytestmark = pytest.mark.django_db


def test_staff_set_the_floor_and_everyone_can_read_it(nadia: Any, pia: Any, api_as: Any) -> None:
    put = api_as(nadia).put(
        "/api/v1/network-terms/", {"minimum_payout": "75.00", "minimum_payout_currency": "USD"}, format="json"
    )
    refused = api_as(pia).put(
        "/api/v1/network-terms/", {"minimum_payout": "0", "minimum_payout_currency": "USD"}, format="json"
    )
    read = api_as(pia).get("/api/v1/network-terms/")

    assert (put.status_code, refused.status_code) == (200, 403)
    assert read.json()["minimum_payout"] == "75.000000"


def test_a_publisher_cannot_lower_its_minimum_below_the_floor(
    pia: Any, pixelpush: Publisher, api_as: Any
) -> None:
    network_terms_set(minimum_payout=Decimal("50"), currency="USD")
    FxRate.objects.create(
        base="EUR", quote="USD", rate=Decimal("1.25"), valid_from=datetime(2024, 1, 1, tzinfo=UTC)
    )
    url = f"/api/v1/publishers/{pixelpush.pk}/"

    low = api_as(pia).patch(url, {"minimum_payout": "49.99"}, format="json")
    low_eur = api_as(pia).patch(url, {"minimum_payout": "39.99", "payout_currency": "EUR"}, format="json")
    ok_eur = api_as(pia).patch(url, {"minimum_payout": "40.00", "payout_currency": "EUR"}, format="json")

    assert (low.status_code, low.json()["code"]) == (400, "below_network_minimum")
    assert low_eur.status_code == 400
    assert ok_eur.status_code == 200
    pixelpush.refresh_from_db()
    assert (pixelpush.minimum_payout, pixelpush.payout_currency) == (Decimal("40.00"), "EUR")


def test_the_portal_form_refuses_a_minimum_below_the_floor(pia: Any, pixelpush: Publisher) -> None:
    network_terms_set(minimum_payout=Decimal("100"), currency="USD")
    client = Client()
    sign_in(client, pia)
    form = {
        "form": "payout",
        "d-payout_method": "paypal",
        "d-payout_currency": "USD",
        "d-minimum_payout": "20",
        "d-paypal-email": "pia@pixelpush.example",
    }

    response = client.post("/publisher/profile/", form)

    assert response.status_code == 200
    assert b"minimum payout is 100.00 USD" in response.content
    pixelpush.refresh_from_db()
    assert pixelpush.minimum_payout == Decimal("50")
