"""The minimal integration flow of contract section 7, with a staff token."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from affiliates.models import OfferAccess


@pytest.fixture
def staff_client(nadia) -> APIClient:
    out = StringIO()
    call_command("drf_create_token", "nadia", stdout=out)
    key = out.getvalue().split()[2]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_the_minimal_integration_flow_runs_as_written(staff_client: APIClient) -> None:
    assert _flow(staff_client)


def _flow(staff_client: APIClient) -> str:
    """Steps 1-4 with staff credentials; returns the link's token."""
    adv = staff_client.post("/api/v1/advertisers/", {"name": "Acme", "currency": "USD"}, format="json")
    assert adv.status_code == 201, adv.json()
    assert adv.json()["id"]
    assert len(adv.json()["postback_token"]) >= 24

    pub = staff_client.post("/api/v1/publishers/", {"name": "Pia", "email": "pia@example.com"}, format="json")
    assert pub.status_code == 201, pub.json()
    assert pub.json()["status"] == "active"  # created by staff: active unless the request says otherwise

    offer = staff_client.post(
        "/api/v1/offers/",
        {
            "advertiser": adv.json()["id"],
            "name": "Shoes",
            "landing_url": "https://shoes.example.com/?c={click_id}",
            "currency": "USD",
            "attribution_window_days": 30,
            "hold_days": 7,
            "goals": [
                {"code": "sale", "name": "Sale", "payout_type": "cps", "payout": "8", "revenue": "12"},
                {"code": "lead", "name": "Lead", "payout_type": "cpl", "payout": "1.50", "revenue": "2"},
            ],
        },
        format="json",
    )
    assert offer.status_code == 201, offer.json()
    assert [g["code"] for g in offer.json()["goals"]] == ["sale", "lead"]
    assert offer.json()["goals"][0]["is_default"] is True

    link = staff_client.post(
        "/api/v1/links/", {"offer": offer.json()["id"], "publisher": pub.json()["id"]}, format="json"
    )
    assert link.status_code == 201, link.json()
    token = link.json()["token"]
    assert link.json()["url"].endswith(f"/c/{token}")
    assert OfferAccess.objects.get(token=token).status == OfferAccess.Status.APPROVED
    return token


@pytest.mark.django_db(transaction=True)
def test_the_flows_link_takes_a_visitor_to_the_landing_page(staff_client: APIClient, edge: Any) -> None:
    token = _flow(staff_client)
    click = edge.get(f"/c/{token}", HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0")
    assert click.status_code == 302
    assert click["Location"].startswith("https://shoes.example.com/?c=")
    assert len(click["Location"].rsplit("=", 1)[1]) == 32  # a click id, not the fallback


def test_staff_may_create_a_publisher_pending_and_sign_ups_start_pending(staff_client: APIClient) -> None:
    pending = staff_client.post(
        "/api/v1/publishers/", {"name": "Pat", "email": "pat@example.com", "status": "pending"}, format="json"
    )
    assert (pending.status_code, pending.json()["status"]) == (201, "pending")
    bad = staff_client.post(
        "/api/v1/publishers/",
        {"name": "Pam", "email": "pam@example.com", "status": "suspended"},
        format="json",
    )
    assert (bad.status_code, bad.json()["code"]) == (400, "bad_status")


def test_a_bad_offer_answers_400_with_field_errors_and_a_code(staff_client: APIClient, acme) -> None:
    response = staff_client.post(
        "/api/v1/offers/",
        {
            "advertiser": acme.id,
            "name": "Bad",
            "landing_url": "javascript:alert(1)",
            "goals": [
                {"code": "sale", "name": "Sale", "payout_type": "cps", "payout": "180", "revenue": "12"}
            ],
        },
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"]
    assert "landing_url" in body["fields"]


@pytest.mark.django_db
def test_healthz_reports_the_database(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"
