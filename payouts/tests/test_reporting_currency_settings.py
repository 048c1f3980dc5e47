"""An advertiser chooses its reporting currency (portal settings page and API field): only ISO
4217 codes with stored rates (or the network's base), refused with a reason code otherwise;
its dashboard and reports then total money in it at the stored rates, breakdown on demand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from affiliates.models import Advertiser, OfferAccess, Publisher
from affiliates.team_models import AdvertiserMember, TeamRole
from affiliates.tests import factories as f
from affiliates.tests.signin import sign_in
from tests.portal_data import conversion_make, euro_access_make
from tracking.tests.factories import click_make

pytestmark = pytest.mark.django_db

TODAY = timezone.now().date()
RANGE = f"range=custom&start={TODAY - timedelta(days=6)}&end={TODAY - timedelta(days=1)}"


def client_for(user: Any) -> Client:
    client = Client()
    sign_in(client, user)
    return client


def sale(link: OfferAccess, amount: str = "100.00") -> None:
    at = datetime.combine(TODAY - timedelta(days=2), datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
    click = click_make(offer=link.offer, publisher=link.publisher, at=at - timedelta(minutes=1))
    conversion_make(click=click, status="approved", amount=Decimal(amount), at=at)


@pytest.mark.parametrize(
    ("asked", "code"), [("EUR", "no_fx_rate"), ("XYZ", "unknown_currency"), ("euros", "unknown_currency")]
)
def test_a_currency_without_rates_or_not_iso_is_refused_with_its_reason(
    ada: Any, acme: Advertiser, asked: str, code: str, settings: Any
) -> None:
    settings.REPORTING_CURRENCY = "USD"
    client = client_for(ada)
    page = client.get("/advertiser/settings/")
    assert page.status_code == 200
    assert '<option value="" selected>' in page.content.decode()  # the network's base, USD
    refused = client.post("/advertiser/settings/", {"reporting_currency": asked})
    assert refused.status_code == 400
    assert f'data-code="{code}"' in refused.content.decode()
    acme.refresh_from_db()
    assert acme.reporting_currency == ""


def test_the_dashboard_and_reports_total_in_the_chosen_currency_with_a_breakdown(
    ada: Any, acme: Advertiser, shoes_link: OfferAccess, pixelpush: Publisher, settings: Any
) -> None:
    settings.REPORTING_CURRENCY = "USD"
    euro = euro_access_make(advertiser=acme, publisher=pixelpush)  # and EUR->USD at 1.0850
    sale(shoes_link)  # costs Acme 12.00 USD
    sale(euro)  # and 12.00 EUR
    client = client_for(ada)
    before = client.get(f"/advertiser/?{RANGE}")
    cost = next(k for k in before.context["kpis"] if k.key == "cost")
    assert cost.value == Decimal("25.02")  # 12.00 + 12.00 x 1.0850, in USD

    page = client.get("/advertiser/settings/")
    assert '<option value="EUR">EUR</option>' in page.content.decode()
    saved = client.post("/advertiser/settings/", {"reporting_currency": "EUR"})
    assert saved.status_code == 302
    acme.refresh_from_db()
    assert acme.reporting_currency == "EUR"
    assert 'data-pair="EURUSD"' in client.get("/advertiser/settings/").content.decode()

    after = client.get(f"/advertiser/?{RANGE}")
    assert after.context["currency"] == "EUR"
    cost = next(k for k in after.context["kpis"] if k.key == "cost")
    assert cost.value == Decimal("23.06")  # 12.00 / 1.0850 = 11.06 + 12.00, in EUR
    body = after.content.decode()
    assert "23.06" in body
    assert 'class="fx-breakdown"' in body
    assert "12.00 USD" in body  # the part as stored, on demand

    report = client.get(f"/reports/?{RANGE}&dimensions=offer")
    assert report.status_code == 200
    assert report.context["currency"] == "EUR"

    client.post("/advertiser/settings/", {"reporting_currency": ""})
    acme.refresh_from_db()
    assert acme.reporting_currency == ""  # back to the network's base


def test_a_read_only_member_cannot_change_it(acme: Advertiser) -> None:
    viewer = f.UserFactory(username="rita")
    AdvertiserMember.objects.create(advertiser=acme, user=viewer, role=TeamRole.READ_ONLY)
    client = client_for(viewer)
    assert client.get("/advertiser/settings/").status_code == 200
    assert client.post("/advertiser/settings/", {"reporting_currency": "USD"}).status_code == 403


def test_the_api_field_is_checked_the_same_way(
    ada: Any, acme: Advertiser, api_as: Any, settings: Any
) -> None:
    settings.REPORTING_CURRENCY = "USD"
    api = api_as(ada)
    url = f"/api/v1/advertisers/{acme.pk}/"
    assert api.get(url).json()["reporting_currency"] == ""
    refused = api.patch(url, {"reporting_currency": "EUR"}, format="json")
    assert refused.status_code == 400
    assert refused.json()["code"] == "no_fx_rate"
    assert "reporting_currency" in refused.json()["fields"]
    assert api.patch(url, {"reporting_currency": "QQQ"}, format="json").json()["code"] == "unknown_currency"
    euro_access_make(advertiser=acme, publisher=f.PublisherFactory())
    ok = api.patch(url, {"reporting_currency": "EUR"}, format="json")
    assert ok.status_code == 200
    assert ok.json()["reporting_currency"] == "EUR"
    acme.refresh_from_db()
    assert acme.reporting_currency == "EUR"
