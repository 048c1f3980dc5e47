"""Issue 16's portal items in Chromium: the publisher saving an IBAN payout method (a bad IBAN
refused, a good one saved), the advertiser's review buttons within a 1366 px wide window, and
screenshots of the pages this work changed (artifacts/screenshots/)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import expect

from affiliates.models import Creative, Offer, OfferAccess, Publisher
from affiliates.tests import factories as f
from tests.browser.conftest import login
from tests.portal_data import conversion_make
from tracking.tests.factories import click_make

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _patient(page: Any) -> None:
    """A loaded machine (helpers share 2 cores) can take over 10 s to serve a cold first page."""
    page.set_default_timeout(45_000)
    page.goto("/login/", timeout=180_000)  # warm the live server up before the first login


def test_the_publisher_saves_an_iban_payout_method(
    page: Any, shot: Any, pia: Any, pixelpush: Publisher
) -> None:
    login(page, "pia")
    page.goto("/publisher/profile/")
    page.get_by_label("Payout method").select_option(label="SEPA transfer")
    sepa = page.locator("fieldset[data-method='sepa']")
    expect(sepa).to_be_visible()
    expect(page.locator("fieldset[data-method='paypal']")).to_be_hidden()  # only the chosen method's
    sepa.get_by_label("IBAN").fill("DE89 3704 0044 0532 0130 01")  # one digit off: bad checksum
    page.get_by_role("button", name="Save payout details").click()
    expect(page.get_by_text("Not a valid IBAN")).to_be_visible()
    shot("bad-iban")
    pixelpush.refresh_from_db()
    assert pixelpush.payout_method == "paypal"
    sepa = page.locator("fieldset[data-method='sepa']")
    sepa.get_by_label("IBAN").fill("DE89 3704 0044 0532 0130 00")
    sepa.get_by_label("BIC / SWIFT").fill("COBADEFFXXX")
    page.get_by_role("button", name="Save payout details").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    expect(page.locator("fieldset[data-method='sepa']").get_by_label("IBAN")).to_have_value(
        "DE89370400440532013000"
    )
    shot("saved")
    pixelpush.refresh_from_db()
    assert (pixelpush.payout_method, pixelpush.payout_details["iban"]) == ("sepa", "DE89370400440532013000")


def _right_edge(locator: Any) -> float:
    box = locator.bounding_box()
    assert box is not None
    return float(box["x"] + box["width"])


def test_review_actions_stay_within_a_1366_px_window(
    page: Any, shot: Any, ada: Any, shoes_link: OfferAccess, rival: Publisher
) -> None:
    page.set_viewport_size({"width": 1366, "height": 768})
    conversion = conversion_make(
        click=click_make(shoes_link.offer, shoes_link.publisher, sub1="a-rather-long-sub-id-from-a-tracker")
    )
    f.OfferAccessFactory(offer=shoes_link.offer, publisher=rival, status=OfferAccess.Status.PENDING)
    login(page, "ada")
    page.goto("/advertiser/conversions/")
    for name in (f"Approve conversion {conversion.pk}", f"Reject conversion {conversion.pk}"):
        button = page.get_by_role("button", name=name)
        expect(button).to_be_visible()
        assert _right_edge(button) <= 1366, name
    assert _right_edge(page.get_by_role("button", name="Apply to selected")) <= 1366
    shot("conversions-1366")
    page.goto("/advertiser/publishers/")
    for verb in ("Approve", "Reject"):
        button = page.get_by_role("button", name=f"{verb} Rival Traffic for {shoes_link.offer.name}")
        expect(button).to_be_visible()
        assert _right_edge(button) <= 1366, verb
    shot("publishers-1366")


def test_screenshots_of_the_changed_pages(
    page: Any, shot: Any, ada: Any, pia: Any, shoes_link: OfferAccess, shoes: Offer
) -> None:
    Offer.objects.filter(pk=shoes.pk).update(
        terms="No brand bidding. Coupon sites need written approval.",
        allowed_traffic=["content", "email", "social"],
    )
    Creative.objects.create(
        offer=shoes, name="Summer text link", kind="text", body="20% off shoes: {tracking_link}"
    )
    f.CapFactory(offer=shoes, metric="conversions", period="day", limit=Decimal("100"))
    other = f.OfferFactory(
        advertiser=shoes.advertiser, name="Acme Boots", visibility="public", terms="Content only."
    )
    f.GoalFactory(
        offer=other, code="sale", name="Sale", payout_type="cpa", payout=Decimal("12"), is_default=True
    )
    login(page, "pia")
    page.goto("/publisher/offers/")
    expect(page.locator("[data-epc]").first).to_be_visible()
    shot("marketplace")
    page.goto(f"/publisher/offers/{shoes.pk}/")
    expect(page.locator("[data-terms]")).to_contain_text("No brand bidding")
    shot("offer-detail")
    Offer.objects.filter(pk=shoes.pk).update(status=Offer.Status.PAUSED, fallback_offer=other)
    page.goto("/publisher/my-offers/")
    expect(page.locator("[data-down-note]")).to_contain_text("paused")
    shot("my-offers-paused")
    page.goto(f"/publisher/my-offers/{shoes_link.pk}/")
    expect(page.locator("[data-down-note]")).to_contain_text("Acme Boots")
    shot("link-page-paused")
    Offer.objects.filter(pk=shoes.pk).update(status=Offer.Status.ACTIVE)
    login(page, "ada")
    page.goto(f"/advertiser/integration/?offer={shoes.pk}")
    expect(page.locator("input[data-goal='lead']")).to_have_value(re.compile("goal=lead"))
    shot("integration-goals")
    page.goto("/advertiser/publishers/")
    page.get_by_role("link", name=f"Remove PixelPush Media from {shoes.name}").click()
    page.get_by_role("button", name="Remove from offer").click()
    expect(page.get_by_text("Tick the box to confirm.")).to_be_visible()
    shot("remove-confirm")
    page.get_by_label("I understand; do it").check()
    page.get_by_role("button", name="Remove from offer").click()
    expect(page.get_by_text("no longer runs")).to_be_visible()
    shoes_link.refresh_from_db()
    assert shoes_link.status == OfferAccess.Status.REJECTED
