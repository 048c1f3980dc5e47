"""The pages this work gave a range picker, a list on the shared helper or a setting, in
Chromium: the advertiser chooses a reporting currency and reads the dashboard in it; axe at
1366 px and 390 px on each page (A/B tests, a test's page, budget shifts, the marketplace,
settings, smart links, rules, system health) and a screenshot of each at 1366 px."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import expect

from affiliates.models import Offer
from affiliates.roles import Actor, Role
from payouts.automation import services as rules
from payouts.experiments.models import BudgetShift
from payouts.experiments.tests.conftest import day_row, make_test
from payouts.models.callbacks import CallbackDelivery
from tests.browser.conftest import login
from tests.browser.test_accessibility import _sweep
from tests.browser.test_portal_ranges import _sales
from tracking.smartlinks.services import PathSpec, smart_link_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STAFF = Actor(role=Role.STAFF)


def _world(shoes_link, acme):
    _sales(shoes_link, acme)  # dollars and euros, a EUR->USD rate, the rollups
    today = timezone.now().date()
    test = make_test(shoes_link.offer)
    a, b = test.variants.order_by("position")
    for days in range(0, 40, 2):
        day_row(a, today - timedelta(days=days), 300 + days, 9 + days % 4, Decimal("2"))
        day_row(b, today - timedelta(days=days), 280 + days, 12 + days % 5, Decimal("2"))
    for weeks, status in ((0, "proposed"), (1, "applied"), (2, "undone"), (5, "advice")):
        monday = today - timedelta(days=today.weekday() + 7 * weeks)
        BudgetShift.objects.create(
            advertiser=acme, week=monday, lever="publisher_cap", scope=f"offer:{shoes_link.offer_id}",
            bottom="publisher:1 Low", top="publisher:2 High", share="0.25",
            numbers={"1": {"label": "Low", "effect_score": 0.4, "clicks": 900, "conversions": 9}},
            changes={"cap 1": [100, 75]}, status=status,
        )  # fmt: skip
    euro = Offer.objects.get(name="Acme Boots EU")
    smart_link_create(
        actor=STAFF,
        publisher=shoes_link.publisher,
        name="Spring",
        paths=[PathSpec(offer=shoes_link.offer, weight=100), PathSpec(offer=euro, is_catch_all=True)],
    )
    rules.rule_create(
        actor=STAFF, created_by=None, name="Stop-loss", scope="offer", offer=shoes_link.offer,
        metric="cpc", comparison="gt", threshold=Decimal("2"), action="alert", notify=False,
    )  # fmt: skip
    now = timezone.now()
    for i, status in enumerate(("failed", "pending", "delivered")):
        CallbackDelivery.objects.create(
            key=f"k{i}", publisher=shoes_link.publisher, url=f"https://pub.example/pb?c={i}", event="created",
            status=status, attempts_count=i + 1, last_status_code=503 if i < 2 else 200,
            last_error="HTTP 503" if i < 2 else "", created_at=now - timedelta(hours=i), give_up_at=now,
        )  # fmt: skip
    return test


def test_the_new_pages_read_well_and_have_no_axe_violation(page, shot, pia, ada, nadia, acme, shoes_link):
    test = _world(shoes_link, acme)
    page.set_default_timeout(60_000)  # the shared CI machine is slow; the steps are not
    axe, problems = Axe(), []

    def sweep(role: str, url: str, name: str) -> None:
        problems.extend(_sweep(page, axe, role, url))
        page.set_viewport_size({"width": 1366, "height": 900})
        page.goto(url)
        shot(name)

    login(page, "ada")
    page.goto("/advertiser/settings/")
    page.locator("#id_reporting_currency").select_option("EUR")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").or_(page.locator(".flash")).first).to_contain_text("EUR")
    page.goto("/advertiser/?range=30d")
    expect(page.locator('[data-kpi="cost"]')).to_contain_text("EUR")
    shot("advertiser-dashboard-in-euros")
    page.goto("/ab-tests/")
    page.get_by_role("link", name="Last 7 days").click()
    expect(page).to_have_url(re.compile(r"range=7d"))
    expect(page.locator('[data-delta="clicks"]').first).to_contain_text("%")

    for url, name in (
        ("/advertiser/settings/", "advertiser-settings"),
        ("/ab-tests/?range=30d", "ab-tests"),
        (f"/ab-tests/{test.pk}/?range=7d", "ab-test"),
        ("/budget-shifts/?range=30d", "budget-shifts"),
        ("/rules/", "advertiser-rules"),
    ):
        sweep("advertiser", url, name)
    login(page, "pia")
    sweep("publisher", "/publisher/offers/?range=30d", "marketplace")
    sweep("publisher", "/smart-links/", "publisher-smart-links")
    login(page, "nadia")
    for url, name in (
        ("/smart-links/", "staff-smart-links"),
        ("/rules/", "staff-rules"),
        ("/staff/health/", "staff-health"),
        (f"/budget-shifts/?advertiser={acme.pk}&range=30d", "staff-budget-shifts"),
        ("/staff/", "staff-overview"),
    ):
        sweep("staff", url, name)
    assert problems == []
