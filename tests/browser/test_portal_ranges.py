"""The publisher picks a preset and then a custom range on the dashboard (the shared picker,
affiliates.portal.daterange), in Debian's Chromium; screenshots of the dashboards and the
report with their comparisons."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from payouts.reports.services import rollups_rebuild_all
from tests.browser.conftest import login
from tests.portal_data import conversion_make, euro_access_make
from tracking.tests.factories import click_make

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sales(shoes_link, acme) -> None:
    """Sales in dollars and in euros over the last five weeks, more recently than before."""
    euro = euro_access_make(advertiser=acme, publisher=shoes_link.publisher)
    now = timezone.now()
    for days in range(0, 35):
        for link in (shoes_link, euro) if days % 3 == 0 else (shoes_link,):
            at = now - timedelta(days=days, hours=1)
            click = click_make(offer=link.offer, publisher=link.publisher, at=at - timedelta(minutes=2))
            conversion_make(click=click, status="approved", amount=Decimal(40 + (35 - days) * 3), at=at)
    rollups_rebuild_all(start=now - timedelta(days=40), end=now)


def test_the_publisher_picks_a_preset_then_a_custom_range(page, shot, pia, ada, acme, shoes_link) -> None:
    _sales(shoes_link, acme)
    page.set_default_timeout(60_000)  # the shared CI machine is slow; the steps are not
    login(page, "pia")
    page.goto("/publisher/")
    expect(page.locator('[data-preset="7d"]')).to_have_attribute("aria-current", "true")
    page.get_by_role("link", name="Last 30 days").click()
    expect(page).to_have_url(re.compile(r"range=30d"))
    expect(page.locator('[data-preset="30d"]')).to_have_attribute("aria-current", "true")
    expect(page.locator('[data-delta="conversions"]')).to_contain_text("%")
    page.locator('[data-kpi="earnings"] summary').click()
    expect(page.locator('[data-kpi="earnings"] .fx-breakdown')).to_contain_text("EUR")
    shot("publisher-30-days")

    first, last = (timezone.now().date() - timedelta(days=d) for d in (20, 14))
    page.get_by_text("Custom range").click()
    page.get_by_label("From", exact=True).fill(first.isoformat())
    page.get_by_label("To", exact=True).fill(last.isoformat())
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(rf"start={first}&end={last}"))
    expect(page.locator("[data-range-label]")).to_contain_text(f"{first:%b %d} – {last:%b %d, %Y}")
    expect(page.locator('[data-kpi="conversions"]')).to_have_text(
        "9"
    )  # 7 days of dollar sales, 2 of euro ones
    shot("publisher-custom-range")

    page.goto("/reports/?range=30d&group_by=offer")
    expect(page.get_by_role("table", name="Report")).to_contain_text("Acme Boots EU")
    shot("publisher-report-by-offer")
    page.goto("/reports/?range=30d&group_by=hour&sort=-gross_clicks")
    expect(page.locator(".pager")).to_contain_text("Page 1 of")
    shot("publisher-report-by-hour")

    login(page, "ada")
    page.goto("/advertiser/?range=this_month")
    expect(page.locator('[data-kpi="cost"]')).to_be_visible()
    shot("advertiser-this-month")
    page.goto("/reports/?range=30d&group_by=publisher")
    expect(page.get_by_role("table", name="Report")).to_contain_text("PixelPush Media")
    shot("advertiser-report-by-publisher")


def test_staff_read_console_money_in_one_currency_with_the_breakdown_on_demand(
    page, shot, nadia, acme, shoes_link
) -> None:
    _sales(shoes_link, acme)
    page.set_default_timeout(60_000)
    login(page, "nadia")
    page.goto("/staff/")
    revenue = page.locator('[data-kpi="revenue"]')
    expect(revenue).to_contain_text("USD")
    revenue.locator("summary").click()
    expect(revenue.locator(".fx-breakdown")).to_contain_text("EUR ×")
    shot("overview")
    page.goto(f"/staff/advertisers/{acme.pk}/?range=30d")
    top = page.get_by_role("table", name="Top offers")
    expect(top).to_contain_text("Acme Boots EU")
    expect(page.get_by_role("columnheader", name="Revenue (USD)")).to_be_visible()
    page.locator('[data-kpi="margin"] summary').click()
    expect(page.locator('[data-kpi="margin"] .fx-breakdown')).to_contain_text("EUR")
    shot("advertiser")
