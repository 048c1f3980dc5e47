"""Tracking domains in Chromium: a publisher adds one, reads its token, verifies it and removes it
after the confirm step; staff find it in the console list. Each new page is checked with axe at
1366 px and 390 px (as the whole-site sweep in test_accessibility.py does), and screenshotted."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from affiliates.models import TrackingDomain
from payouts import tracking_domains as verifying
from payouts.callbacks.client import Outcome
from tests.browser.conftest import login
from tests.browser.test_accessibility import _sweep

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _answering(monkeypatch: Any) -> None:
    """Every host answers its own token (the live server runs in this process)."""

    def send(*, method: str, url: str, timeout: float) -> Outcome:
        host = url.split("/")[2]
        return Outcome(ok=True, status_code=200, excerpt=TrackingDomain.objects.get(host=host).token)

    monkeypatch.setattr(verifying, "send", send)


def test_a_publisher_adds_verifies_and_removes_a_tracking_domain(page, shot, pia, pixelpush, monkeypatch):
    _answering(monkeypatch)
    login(page, "pia")
    page.get_by_role("link", name="Tracking domains").click()
    expect(page.get_by_role("heading", name="Tracking domains", exact=True)).to_be_visible()
    page.get_by_label("Host").fill("trk.pixelpush.example")
    page.get_by_role("button", name="Add domain").click()
    expect(page.get_by_text("trk.pixelpush.example added")).to_be_visible()
    token = TrackingDomain.objects.get().token
    row = page.get_by_role("row").filter(has_text="trk.pixelpush.example")
    expect(row).to_contain_text(token)
    expect(row).to_contain_text("not verified")
    shot("added")
    problems = _sweep(page, Axe(), "publisher", "/tracking-domains/")
    page.set_viewport_size({"width": 1360, "height": 900})
    page.get_by_role("button", name="Verify trk.pixelpush.example").click()
    expect(page.get_by_text("trk.pixelpush.example is verified")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="trk.pixelpush.example")).to_contain_text("verified since")
    shot("verified")
    page.get_by_role("link", name="Remove trk.pixelpush.example").click()
    expect(page.get_by_text("Tracking links stop being built on trk.pixelpush.example")).to_be_visible()
    problems += _sweep(page, Axe(), "publisher", page.url)
    page.set_viewport_size({"width": 1360, "height": 900})
    shot("confirm-remove")
    page.get_by_label("I understand what this will do").check()
    page.get_by_role("button", name="Remove domain").click()
    expect(page.get_by_text("trk.pixelpush.example removed.")).to_be_visible()
    assert not TrackingDomain.objects.exists()
    assert problems == []


def test_staff_list_every_domain_and_add_one_for_an_advertiser(page, shot, nadia, acme, pixelpush):
    TrackingDomain.objects.create(host="trk.pixelpush.example", publisher=pixelpush)
    login(page, "nadia")
    page.get_by_role("link", name="Tracking domains").click()
    expect(page.get_by_role("table", name="Tracking domains")).to_contain_text("PixelPush Media")
    page.get_by_label("New domain").fill("trk.acme.example")
    page.get_by_label("For advertiser").select_option(label=acme.name)
    page.get_by_role("button", name="Add domain").click()
    expect(page.get_by_text("trk.acme.example added for Acme Shoes (advertiser)")).to_be_visible()
    expect(page.get_by_role("table", name="Tracking domains")).to_contain_text("Acme Shoes")
    shot("staff-list")
    assert _sweep(page, Axe(), "staff", "/staff/tracking-domains/") == []
