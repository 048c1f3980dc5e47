"""The staff console's money in the reporting currency: the overview's and the detail pages'
tiles, their top rows and balances are one total at the stored rates, with the per-currency
breakdown on demand; a currency without a rate is never guessed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db.models import Q
from django.test import Client

from affiliates.tests.signin import sign_in
from payouts.portal import console_pages
from payouts.portal import console_selectors as sel
from payouts.reporting_money import rates_at
from tests.portal_data import conversion_make, euro_rate_make, priced_access_make
from tracking.tests.factories import click_make

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 3, 12, 15, 0, tzinfo=UTC)


def sale(link, at: datetime, amount: str = "100.00"):
    click = click_make(offer=link.offer, publisher=link.publisher, at=at - timedelta(minutes=1))
    return conversion_make(click=click, status="approved", amount=Decimal(amount), at=at)


def priced_link(acme, pixelpush, currency: str):
    """An offer of Acme's priced in ``currency`` that PixelPush runs."""
    return priced_access_make(
        advertiser=acme, publisher=pixelpush, currency=currency, name=f"Acme Boots {currency}"
    )


@pytest.fixture
def euro_rate():
    return euro_rate_make()


def client_for(user) -> Client:
    client = Client()
    sign_in(client, user)
    return client


def test_a_period_s_money_is_one_total_with_its_change_on_converted_totals(
    shoes_link, acme, pixelpush, euro_rate
):
    euro = priced_link(acme, pixelpush, "EUR")
    sale(shoes_link, NOW - timedelta(days=2))  # 12.00 USD revenue
    sale(euro, NOW - timedelta(days=3))  # 12.00 EUR = 13.02 USD
    sale(shoes_link, NOW - timedelta(days=10), amount="50.00")  # before: 6.00 USD
    tiles = {
        t.label: t
        for t in sel.period_tiles(
            start=NOW - timedelta(days=7),
            end=NOW,
            where=Q(publisher_id=pixelpush.pk),
            currency="USD",
            rates=rates_at(at=NOW),
        )
    }
    revenue = tiles["Revenue"]
    assert revenue.value == "25.02 USD"
    assert revenue.converted is not None
    assert revenue.converted.mixed
    assert [(cur, amount) for cur, amount, *_ in revenue.converted.parts] == [
        ("EUR", Decimal("12.00")),
        ("USD", Decimal("12.00")),
    ]
    # (25.02 - 6.00) / 6.00: one change, not one per currency.
    assert [(c.text, c.tone) for c in revenue.changes] == [("+317 %", "up")]
    # Margin: 4.00 USD and 4.00 EUR (4.34 USD).
    assert tiles["Margin"].value == "8.34 USD"


def test_a_currency_without_a_stored_rate_is_shown_on_its_own_not_guessed(shoes_link, acme, pixelpush):
    pounds = priced_link(acme, pixelpush, "GBP")
    sale(shoes_link, NOW - timedelta(days=2))
    sale(pounds, NOW - timedelta(days=2))
    (revenue,) = [
        t
        for t in sel.period_tiles(
            start=NOW - timedelta(days=7),
            end=NOW,
            where=Q(offer__advertiser_id=acme.pk),
            currency="USD",
            rates={},
        )
        if t.label == "Revenue"
    ]
    assert revenue.converted is not None
    assert revenue.converted.total is None
    assert revenue.converted.missing == ["GBP"]
    assert revenue.lines == ["12.00 GBP", "12.00 USD"]
    assert revenue.changes[0].text == "GBP new · USD new"


def test_top_rows_total_revenue_and_margin_in_the_reporting_currency(shoes_link, acme, pixelpush, euro_rate):
    euro = priced_link(acme, pixelpush, "EUR")
    sale(shoes_link, NOW - timedelta(hours=2))
    sale(euro, NOW - timedelta(hours=1))
    (row,) = sel.top_by(
        start=NOW - timedelta(days=1),
        end=NOW,
        where=Q(offer__advertiser_id=acme.pk),
        by="publisher",
        currency="USD",
        rates=rates_at(at=NOW),
    )
    assert row.revenue == {"USD": Decimal("12.00"), "EUR": Decimal("12.00")}
    assert (row.revenue_total.total, row.margin_total.total) == (Decimal("25.02"), Decimal("8.34"))


def test_the_overview_shows_each_money_tile_as_one_total_with_a_breakdown(
    nadia, shoes_link, acme, pixelpush, euro_rate
):
    now = datetime.now(UTC)
    sale(shoes_link, now - timedelta(minutes=3))
    sale(priced_link(acme, pixelpush, "EUR"), now - timedelta(minutes=2))
    response = client_for(nadia).get("/staff/")
    assert response.status_code == 200
    tiles = {t.label: t for t in response.context["tiles"]}
    assert tiles["Revenue"].value == "25.02 USD"
    assert tiles["Payout"].value == "16.68 USD"
    body = response.content.decode()
    assert body.count('class="fx-breakdown"') == 3  # revenue, payout, margin
    assert "12.00 EUR × 1.0850 = 13.02 USD" in body
    assert "12.00 USD · 12.00 EUR" not in body


def test_detail_pages_total_their_money_and_balances_in_the_reporting_currency(
    nadia, shoes_link, acme, pixelpush, euro_rate, monkeypatch
):
    sale(shoes_link, datetime.now(UTC) - timedelta(hours=1))
    sale(priced_link(acme, pixelpush, "EUR"), datetime.now(UTC) - timedelta(hours=1))
    client = client_for(nadia)
    monkeypatch.setattr(
        console_pages,
        "advertiser_balances",
        lambda advertiser_id: {"EUR": Decimal("100.00"), "USD": Decimal("50.00")},
    )
    page = client.get(f"/staff/advertisers/{acme.pk}/?period=30d")
    assert page.status_code == 200
    assert page.context["balance"].total == Decimal("158.50")
    # Top offers: one per currency, each in USD.
    assert sorted(r.revenue_total.total for r in page.context["top"]) == [Decimal("12.00"), Decimal("13.02")]
    assert "158.50 USD" in page.content.decode()

    zero = Decimal("0.00")
    summary = {
        "EUR": {"pending": Decimal("10.00"), "approved": Decimal("20.00"), "paid": zero},
        "USD": {"pending": Decimal("1.00"), "approved": zero, "paid": Decimal("5.00")},
    }
    monkeypatch.setattr(console_pages, "publisher_summary", lambda publisher_id: summary)
    page = client.get(f"/staff/publishers/{pixelpush.pk}/?period=30d")
    totals = page.context["summary_totals"]
    assert [totals[k].total for k in ("pending", "approved", "paid")] == [
        Decimal("11.85"),
        Decimal("21.70"),
        Decimal("5.00"),
    ]
    body = page.content.decode()
    assert 'data-money="balance-total"' in body
    assert "Total in USD" in body
    assert {t.label: t.value for t in page.context["tiles"]}["Payout"] == "16.68 USD"
