"""The staff console in Chromium (issue 16): a staff member searches the publishers, opens one,
suspends it through the transition service, leaves a note, and reads the overview's queues."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from affiliates.models import Offer, Publisher
from affiliates.tests import factories as f
from tests.browser.conftest import login
from tests.portal_data import conversion_make
from tracking.tests.factories import click_make

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_find_a_publisher_act_on_it_and_read_the_overview(page, shot, nadia, shoes_link, rival):
    f.PublisherFactory(name="Pending Pages", status=Publisher.Status.PENDING)
    click = click_make(offer=shoes_link.offer, publisher=shoes_link.publisher)
    conversion_make(
        click=click, status="approved", amount=Decimal("100.00"), at=timezone.now() - timedelta(minutes=1)
    )

    login(page, "nadia")
    expect(page.get_by_role("heading", name="Network overview")).to_be_visible()
    tiles = page.get_by_role("region", name="Today")
    expect(tiles.locator("[data-kpi='revenue'] .value")).to_have_text("12.00 USD")
    expect(page.locator("[data-waiting='publishers']")).to_have_text("1")
    shot("overview")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Publishers", exact=True).click()
    page.get_by_label("Name, e-mail or website").fill("pixelpush")
    page.get_by_role("button", name="Filter").click()
    table = page.get_by_role("table", name="Publishers")
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table).not_to_contain_text("Rival Traffic")
    # Sorting by name keeps the search.
    page.get_by_role("link", name="Publisher", exact=True).click()
    expect(page).to_have_url(re.compile(r"q=pixelpush.*sort=name|sort=name.*q=pixelpush"))
    table.get_by_role("link", name="PixelPush Media").click()

    expect(page.get_by_role("heading", name=re.compile("PixelPush Media"))).to_be_visible()
    expect(page.locator("[data-kpi='conversions'] .value")).to_have_text("1")
    expect(page.get_by_role("table", name="Top offers")).to_contain_text("Acme Shoes - Summer Sale")
    page.get_by_label("Add a note").fill("Asked for a higher cap; call back Monday.")
    page.get_by_role("button", name="Save note").click()
    expect(page.get_by_text("Asked for a higher cap; call back Monday.")).to_be_visible()
    page.get_by_role("link", name="Suspend…").click()
    expect(page.get_by_role("heading", name="Suspend PixelPush Media?")).to_be_visible()
    page.get_by_label("I understand what this will do").check()
    page.get_by_role("button", name="Suspend").click()
    expect(page.get_by_text("PixelPush Media is now suspended.")).to_be_visible()
    shot("publisher-detail")
    assert Publisher.objects.get(pk=shoes_link.publisher_id).status == Publisher.Status.SUSPENDED


def test_staff_create_an_offer_with_two_goals_and_pause_it_with_confirmation(page, shot, nadia, acme, pia):
    login(page, "nadia")
    page.goto("/staff/offers/")
    page.get_by_role("link", name="New offer").click()
    page.get_by_label("Advertiser", exact=True).select_option(label=acme.name)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name=f"New offer for {acme.name}")).to_be_visible()
    page.get_by_label("Name", exact=True).fill("Acme Boots - Winter")
    page.get_by_label("Landing URL").fill("https://boots.example.com/?c={click_id}")
    page.get_by_label("Countries", exact=True).fill("US, ca")
    for row, (code, model, payout, revenue) in enumerate(
        [("lead", "cpl", "2.00", "3.00"), ("sale", "cps", "8", "12")], start=1
    ):
        page.get_by_label(f"Goal code (row {row})").fill(code)
        page.get_by_label(f"Goal name (row {row})").fill(code.title())
        page.get_by_label(f"Goal payout type (row {row})").select_option(model)
        page.get_by_label(f"Goal payout (row {row})").fill(payout)
        page.get_by_label(f"Goal revenue (row {row})").fill(revenue)
    shot("offer-form")
    page.get_by_role("button", name="Create offer").click()

    expect(page.get_by_text("Offer “Acme Boots - Winter” saved.")).to_be_visible()
    offer = Offer.objects.get(name="Acme Boots - Winter")
    assert sorted(offer.goals.values_list("code", "payout_type")) == [("lead", "cpl"), ("sale", "cps")]
    assert offer.target_countries == ["US", "CA"]
    shot("offer-page")

    page.get_by_role("link", name="Pause…").click()
    expect(page.get_by_role("heading", name="Pause Acme Boots - Winter?")).to_be_visible()
    expect(page.get_by_text("send clicks to its fallback offer or URL")).to_be_visible()
    shot("pause-confirm")
    page.get_by_label("I understand what this will do").check()
    page.get_by_role("button", name="Pause", exact=True).click()
    expect(page.get_by_text("Acme Boots - Winter is now paused.")).to_be_visible()
    offer.refresh_from_db()
    assert offer.status == Offer.Status.PAUSED
    shot("paused")
