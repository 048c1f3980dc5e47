"""Document pages: staff issue and record payments; each party sees and downloads only its own."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from affiliates.models import Advertiser, Offer, Publisher
from affiliates.tests.signin import sign_in
from payouts.models import Document
from payouts.tests.test_documents import JAN, issuer, sale  # noqa: F401 (issuer: autouse fixture)

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    client = Client()
    sign_in(client, user)
    return client


def test_staff_issue_from_the_portal_and_each_party_sees_its_own(
    shoes: Offer, pixelpush: Publisher, acme: Advertiser, nadia: Any, ada: Any, gus: Any, pia: Any, rex: Any
) -> None:
    sale(shoes, pixelpush, "100.00", day=JAN)
    staff = client_for(nadia)

    staff.post(
        "/staff/documents/issue/",
        {"issue-kind": "invoice", "issue-advertiser": acme.pk, "issue-period": "2024-01"},
    )
    staff.post(
        "/staff/documents/issue/",
        {"issue-kind": "statement", "issue-publisher": pixelpush.pk, "issue-period": "2024-01"},
    )
    paid = staff.post(
        "/staff/documents/payment/",
        {
            "pay-advertiser": acme.pk,
            "pay-currency": "USD",
            "pay-amount": "12.00",
            "pay-received_on": "2024-02-10",
            "pay-reference": "W1",
        },
        follow=True,
    )
    invoice = Document.objects.get(kind="invoice")
    statement = Document.objects.get(kind="statement")

    assert b"Recorded 12.00 USD ref W1." in paid.content
    adv_page = client_for(ada).get("/advertiser/invoices/").content.decode()
    assert "INV-000001" in adv_page
    assert "W1" in adv_page
    assert "ST-000001" not in adv_page
    assert "INV-000001" not in client_for(gus).get("/advertiser/invoices/").content.decode()
    assert "ST-000001" in client_for(pia).get("/publisher/statements/").content.decode()
    assert client_for(ada).get(f"/documents/{invoice.pk}.pdf").content.startswith(b"%PDF")
    assert client_for(gus).get(f"/documents/{invoice.pk}.pdf").status_code == 404
    assert client_for(rex).get(f"/documents/{statement.pk}.csv").status_code == 404
    assert client_for(pia).get(f"/documents/{statement.pk}.csv").status_code == 200


def test_publishers_and_advertisers_cannot_reach_the_staff_page(ada: Any, pia: Any) -> None:
    assert client_for(ada).get("/staff/documents/").status_code == 404
    assert client_for(pia).post("/staff/documents/issue/", {"kind": "invoice"}).status_code == 404


def test_staff_read_issued_documents_in_the_admin_but_cannot_change_them(
    shoes: Offer, pixelpush: Publisher, acme: Advertiser, nadia: Any
) -> None:
    sale(shoes, pixelpush, "100.00", day=JAN)
    staff = client_for(nadia)
    staff.post(
        "/staff/documents/issue/",
        {"issue-kind": "invoice", "issue-advertiser": acme.pk, "issue-period": "2024-01"},
    )
    invoice = Document.objects.get()

    listing = staff.get("/admin/payouts/document/")
    page = staff.get(f"/admin/payouts/document/{invoice.pk}/change/")
    posted = staff.post(f"/admin/payouts/document/{invoice.pk}/change/", {"payment_terms_days": "1"})

    assert b"INV-000001" in listing.content
    assert page.status_code == 200
    assert posted.status_code == 403
    assert staff.get("/admin/payouts/advertiserpayment/").status_code == 200


def test_the_payouts_page_shows_the_amount_sent_and_why_a_payout_is_held(
    pia: Any, pixelpush: Publisher
) -> None:
    from datetime import UTC, datetime
    from decimal import Decimal

    from affiliates.models import FxRate
    from payouts.payout_build import payout_run_build, payout_run_start
    from payouts.tests.factories_payouts import approve_balance, mid

    FxRate.objects.create(
        base="EUR", quote="USD", rate=Decimal("1.25"), valid_from=datetime(2024, 1, 1, tzinfo=UTC)
    )
    Publisher.objects.filter(pk=pixelpush.pk).update(payout_currency="EUR", payout_details={})
    approve_balance(pixelpush, "100.00", at=mid(JAN))
    run, _ = payout_run_start(period=JAN)
    payout_run_build(run_id=run.pk)

    page = client_for(pia).get("/publisher/payouts/").content.decode()

    assert "No payout details on file" in page
    assert "80.00" in page
