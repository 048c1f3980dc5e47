"""Every portal page, with a month of traffic, in the browser: it renders without script
errors, has one h1, and every form control has an accessible name. Screenshots of each page
are kept as artifacts for people to look at."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from affiliates.models import OfferAccess
from affiliates.tests import factories as f
from payouts.documents import invoice_issue, statement_issue
from payouts.reports.services import rollups_rebuild_all
from tests.browser.conftest import login
from tests.portal_data import conversion_make, payout_run_make
from tracking.tests.factories import click_make

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = {
    "pia": [
        "/publisher/",
        "/publisher/offers/",
        "/publisher/my-offers/",
        "/publisher/conversions/",
        "/publisher/payouts/",
        "/publisher/statements/",
        "/publisher/postbacks/",
        "/publisher/profile/",
        "/publisher/audit/",
        "/reports/",
    ],
    "ada": [
        "/advertiser/",
        "/advertiser/offers/",
        "/advertiser/publishers/",
        "/advertiser/conversions/",
        "/advertiser/integration/",
        "/advertiser/invoices/",
        "/advertiser/audit/",
        "/reports/?group_by=offer",
        "/customers/",
    ],
    "nadia": [
        "/staff/",
        "/staff/publishers/",
        "/staff/access/",
        "/staff/fraud/",
        "/staff/payout-runs/",
        "/staff/documents/",
        "/staff/audit/",
        # the staff console's lists (issue 16)
        "/staff/advertisers/",
        "/staff/publishers/all/?sort=-name",
        "/staff/offers/",
        "/staff/accesses/?status=pending",
        "/staff/conversions/",
        "/staff/commissions/?status=approved",
        "/staff/invoices/",
        "/staff/advertiser-payments/",
        "/staff/payouts/",
        "/staff/fx-rates/",
        "/reports/?group_by=day&group_by=publisher",
        "/customers/",
    ],
}

UNNAMED_CONTROLS = """els => els.filter(e => e.type !== 'hidden' && !e.hidden && e.offsetParent !== null)
  .filter(e => !(e.labels && e.labels.length))
  .filter(e => !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby'))
  .map(e => e.name || e.id || e.outerHTML.slice(0, 60))"""


@pytest.fixture
def month_of_traffic(nadia, ada, pia, rival, shoes_link, settings):
    offer, pub = shoes_link.offer, shoes_link.publisher
    offer.creatives.create(
        name="Summer 300x250", kind="banner", image_url="https://cdn.example.com/b.png", width=300, height=250
    )
    now = timezone.now()
    for day in range(30):
        at = now - timedelta(days=day, hours=1)
        clicks = [
            click_make(offer=offer, publisher=pub, at=at, sub1=f"post-{day % 4}") for _ in range(3 + day % 5)
        ]
        if day % 2 == 0:
            status = ["approved", "pending", "rejected", "reversed"][day % 4]
            conversion_make(
                click=clicks[0], txn_id=f"ORD-{day}", status=status, amount=Decimal("80") + day, at=at
            )
    conversion_make(click=click_make(offer=offer, publisher=pub), held=True, txn_id="HOLD-1")
    OfferAccess.objects.create(offer=offer, publisher=rival, note="Cashback site, 200k members")
    f.PublisherFactory(name="Fresh Deals", status="pending", website="https://fresh.example")
    payout_run_make(period=date(2024, 1, 1), publisher=pub, amount=Decimal("412.50"), status="paid")
    rollups_rebuild_all(start=now - timedelta(days=31), end=now + timedelta(hours=1))  # as beat keeps them
    _documents_of_last_month(settings, offer, pub)


def _documents_of_last_month(settings, offer, publisher) -> None:
    """Last month's invoice and statement, so the document pages have rows to show."""
    settings.ISSUER_LEGAL_NAME, settings.ISSUER_ADDRESS = "Affnet Networks Ltd", "1 Grand Canal Square"
    settings.ISSUER_COUNTRY, settings.ISSUER_TAX_ID = "IE", "IE6388047V"
    last_month = (timezone.now().date().replace(day=1) - timedelta(days=1)).replace(day=1)
    invoice_issue(advertiser=offer.advertiser, period=last_month)
    statement_issue(publisher=publisher, period=last_month)


@pytest.mark.parametrize("persona", ["pia", "ada", "nadia"])
def test_every_page_renders_cleanly_with_named_controls(page, shot, month_of_traffic, persona):
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    login(page, persona)
    for url in PAGES[persona]:
        response = page.goto(url)
        assert response.status == 200, url
        assert page.locator("h1").count() == 1, url
        unnamed = page.locator("input, select, textarea").evaluate_all(UNNAMED_CONTROLS)
        assert unnamed == [], (url, unnamed)
        shot(url.split("?")[0].strip("/").replace("/", "-") or "home")
    assert errors == []
