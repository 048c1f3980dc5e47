"""Customer value in Chromium (issue 15): real clicks and postbacks with customer ids, the
customer-value job (what beat runs nightly), then the advertiser's Customers page and staff's."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from payouts.reports.tasks import customer_value_refresh_task
from tests.browser.conftest import click_real, login, postback_real

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def customers(edge, shoes_link) -> None:
    """Two shoppers through pixelpush this month: jane buys twice (100 and 50), omar once (80)."""
    for n, (customer, amount) in enumerate(
        [("jane@x.example", "100"), ("omar@x.example", "80"), ("jane@x.example", "50")]
    ):
        click_id = click_real(edge, shoes_link.token, ip=f"8.8.4.{n + 1}", sub1="spring")
        body = postback_real(edge, click_id, amount=amount, txn_id=f"ORD-{n}", customer_id=customer)
        assert body["result"] == "accepted"
    customer_value_refresh_task.delay()  # what beat runs nightly


def test_an_advertiser_reads_its_cohort_and_ltv_cac(page, shot, ada, acme, customers, pixelpush) -> None:
    login(page, "ada")
    page.get_by_role("link", name="Customers").click()
    expect(page.get_by_role("heading", name="Customers", exact=True)).to_be_visible()
    cohorts = page.get_by_role("table", name="Cohorts")
    row = cohorts.locator("tbody tr")
    expect(row).to_have_count(1)
    cells = row.locator("td")
    assert cells.nth(2).inner_text() == "2"  # customers
    assert cells.nth(3).inner_text() == "3"  # orders within 30 days
    assert cells.nth(4).inner_text() == "230.00"  # what they spent: 100 + 80 + 50
    expect(page.get_by_role("img", name=re.compile("New vs returning orders per publisher"))).to_be_visible()
    ltv = page.get_by_role("table", name="LTV:CAC").locator("tbody tr")
    expect(ltv).to_have_count(1)
    expect(ltv).to_contain_text(f"#{pixelpush.id}")  # advertisers see publisher ids, not names
    expect(ltv).to_contain_text("115.00")  # LTV: 230 / 2
    expect(ltv).to_contain_text("10.80")  # CAC: 12 % of the first orders (100 + 80) / 2
    expect(ltv).to_contain_text("10.65×")
    assert "PixelPush" not in page.content()
    shot("advertiser-customers")
    page.get_by_label("Effect score counts").select_option("90")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Effect scores now count 90 days of customer value.")).to_be_visible()
    acme.refresh_from_db()
    assert acme.value_horizon_days == 90


def test_staff_see_revenue_margin_and_publisher_names(page, shot, nadia, customers) -> None:
    login(page, "nadia")
    page.get_by_role("link", name="Customers").click()
    headers = page.get_by_role("table", name="Cohorts").locator("thead").text_content() or ""
    assert "Revenue" in headers
    assert "Margin" in headers
    row = page.get_by_role("table", name="Cohorts").locator("tbody tr td")
    assert row.nth(4).inner_text() == "27.60"  # revenue: 12 % of 230
    assert row.nth(5).inner_text() == "9.20"  # margin: 27.60 - 18.40
    expect(page.get_by_role("table", name="LTV:CAC")).to_contain_text("PixelPush Media")
    shot("staff-customers")
