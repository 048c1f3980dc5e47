"""Multi-touch attribution in Chromium (issue 15): one visitor clicks rival's link, then
pixelpush's, and buys; the journey job (what beat runs) computes the journey; the advertiser
reads the models side by side and each publisher's participation."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from affiliates.tests import factories as f
from payouts.journeys.tasks import journeys_refresh_task
from tests.browser.conftest import click_real, login, postback_real

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def journey(edge, shoes, shoes_link, rival) -> None:
    rival_link = f.OfferAccessFactory(offer=shoes, publisher=rival)
    click_real(edge, rival_link.token, ip="8.8.4.4", sub1="blog")  # introduces
    closing = click_real(edge, shoes_link.token, ip="8.8.4.4", sub1="cashback")  # closes
    body = postback_real(edge, closing, amount="100", txn_id="ORD-1")
    assert body["result"] == "accepted"
    journeys_refresh_task.delay()


def test_an_advertiser_reads_the_attribution_comparison(page, shot, ada, journey, pixelpush, rival) -> None:
    login(page, "ada")
    page.get_by_role("link", name="Attribution").click()
    expect(page.get_by_role("heading", name="Attribution", exact=True)).to_be_visible()
    table = page.get_by_role("table", name="Attribution comparison")
    closer = table.locator(f"tr[data-publisher='{pixelpush.id}']")
    introducer = table.locator(f"tr[data-publisher='{rival.id}']")
    # Last click (paid): all to pixelpush; first click: all to rival; linear: half each.
    expect(closer.locator("td[data-model='last_click']")).to_have_text("1.00")
    expect(introducer.locator("td[data-model='last_click']")).to_have_text("0.00")
    expect(introducer.locator("td[data-model='first_click']")).to_have_text("1.00")
    expect(closer.locator("td[data-model='linear']")).to_have_text("0.50")
    expect(introducer).to_contain_text("6.00")  # half of the 12.00 revenue under linear
    expect(introducer).to_contain_text(f"Publisher #{rival.id}")  # ids, never names, for advertisers
    roles = page.get_by_role("table", name="Participation")
    expect(roles.locator(f"tr[data-publisher='{rival.id}'] td").nth(2)).to_have_text("1")  # introducer
    expect(roles.locator(f"tr[data-publisher='{pixelpush.id}'] td").nth(4)).to_have_text("1")  # closer
    assert "PixelPush" not in page.content()
    shot("advertiser-attribution")
