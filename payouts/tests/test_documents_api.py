"""Issued documents and advertiser payments over the API: staff issue and record, each party
reads its own."""

from __future__ import annotations

from typing import Any

import pytest

from affiliates.models import Advertiser, Offer, Publisher
from payouts.tests.test_documents import JAN, issuer, sale  # noqa: F401 (issuer: autouse fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def january(shoes: Offer, pixelpush: Publisher) -> None:
    sale(shoes, pixelpush, "100.00", day=JAN)
    sale(shoes, pixelpush, "50.00", day=JAN)


def test_staff_issue_an_invoice_once_and_the_advertiser_downloads_it(
    january: None, nadia: Any, ada: Any, gus: Any, acme: Advertiser, api_as: Any
) -> None:
    staff = api_as(nadia)

    first = staff.post("/api/v1/documents/issue-invoice/", {"advertiser": acme.pk, "period": "2024-01"})
    again = staff.post("/api/v1/documents/issue-invoice/", {"advertiser": acme.pk, "period": "2024-01"})
    invoice = first.json()["invoice"]
    own = api_as(ada).get("/api/v1/documents/")
    pdf = api_as(ada).get(f"/api/v1/documents/{invoice['id']}/pdf/")
    other = api_as(gus).get(f"/api/v1/documents/{invoice['id']}/")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["invoice"]["number"] == invoice["number"] == "INV-000001"
    assert invoice["totals"] == {"USD": "18.00"}
    assert invoice["issuer"]["tax_id"] == "IE6388047V"
    assert [d["number"] for d in own.json()["results"]] == ["INV-000001"]
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert other.status_code == 404


def test_only_staff_issue_documents(january: None, ada: Any, acme: Advertiser, api_as: Any) -> None:
    response = api_as(ada).post(
        "/api/v1/documents/issue-invoice/", {"advertiser": acme.pk, "period": "2024-01"}
    )

    assert response.status_code == 403


def test_a_publisher_reads_its_statements_and_no_invoice(
    january: None, nadia: Any, pia: Any, rex: Any, pixelpush: Publisher, acme: Advertiser, api_as: Any
) -> None:
    staff = api_as(nadia)
    statement = staff.post(
        "/api/v1/documents/issue-statement/", {"publisher": pixelpush.pk, "period": "2024-01"}
    )
    staff.post("/api/v1/documents/issue-invoice/", {"advertiser": acme.pk, "period": "2024-01"})

    mine = api_as(pia).get("/api/v1/documents/")
    csv = api_as(pia).get(f"/api/v1/documents/{statement.json()['statement']['id']}/csv/")

    assert statement.status_code == 201
    assert [(d["kind"], d["number"]) for d in mine.json()["results"]] == [("statement", "ST-000001")]
    assert csv.content.decode().splitlines()[-1].endswith("TOTAL,,,,,USD,12.00")
    assert api_as(rex).get("/api/v1/documents/").json()["results"] == []


def test_staff_record_a_payment_and_the_balance_reaches_zero(
    january: None, nadia: Any, ada: Any, acme: Advertiser, api_as: Any
) -> None:
    staff = api_as(nadia)
    invoice = staff.post("/api/v1/documents/issue-invoice/", {"advertiser": acme.pk, "period": "2024-01"})
    body = {
        "advertiser": acme.pk,
        "currency": "USD",
        "amount": "18.00",
        "received_on": "2024-02-20",
        "reference": "WIRE-77",
        "invoice": invoice.json()["invoice"]["id"],
    }

    paid = staff.post("/api/v1/advertiser-payments/", body, format="json")
    repeat = staff.post("/api/v1/advertiser-payments/", body, format="json")
    refused = api_as(ada).post("/api/v1/advertiser-payments/", {**body, "reference": "X"}, format="json")
    listed = api_as(ada).get("/api/v1/advertiser-payments/")

    assert (paid.status_code, repeat.status_code, refused.status_code) == (201, 200, 403)
    assert paid.json()["balance"] == {"USD": "0.00"}
    assert [p["reference"] for p in listed.json()["results"]] == ["WIRE-77"]


def test_issuing_an_open_month_is_a_400_with_a_reason(nadia: Any, acme: Advertiser, api_as: Any) -> None:
    response = api_as(nadia).post(
        "/api/v1/documents/issue-invoice/", {"advertiser": acme.pk, "period": "2999-01"}
    )

    assert response.status_code == 400
    assert response.json()["code"] == "period_open"


def test_an_invalid_eu_vat_id_is_refused_and_a_valid_one_kept(
    nadia: Any, acme: Advertiser, api_as: Any
) -> None:
    url = f"/api/v1/advertisers/{acme.pk}/"

    bad = api_as(nadia).patch(url, {"country": "DE", "tax_id": "DE136695977"}, format="json")
    good = api_as(nadia).patch(url, {"country": "DE", "tax_id": "DE136695976"}, format="json")
    other = api_as(nadia).patch(url, {"country": "US", "tax_id": "12-3456789"}, format="json")

    assert bad.status_code == 400
    assert "tax_id" in bad.json()["fields"]
    assert (good.status_code, other.status_code) == (200, 200)
