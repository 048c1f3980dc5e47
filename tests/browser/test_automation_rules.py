"""A stop-loss rule pausing a creative, in Chromium: the advertiser writes the rule, real clicks
come in and are rolled up, the check fires and pauses the creative, and undo brings it back."""

from __future__ import annotations

import pytest

from affiliates.models import Creative
from payouts.automation.models import Rule
from tests.browser.conftest import click_real, login, rollups_refresh

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_stop_loss_rule_pauses_a_creative(page, shot, edge, ada, shoes, shoes_link) -> None:
    banner = Creative.objects.create(
        offer=shoes, name="Summer 300x250", kind="banner", image_url="https://cdn.example.com/b.png"
    )
    page.set_default_timeout(30_000)  # a check and a rollup refresh run inside some requests
    login(page, "ada")
    page.goto("/rules/")
    page.get_by_role("link", name="New rule").click()
    page.get_by_label("Name", exact=True).fill("Banner stop-loss")
    page.get_by_label("Scope", exact=True).select_option("creative")
    page.get_by_label("Offer", exact=True).select_option(str(shoes.pk))
    page.get_by_label("Creative", exact=True).select_option(str(banner.pk))
    page.get_by_label("Metric", exact=True).select_option("cvr")
    page.get_by_label("Comparison", exact=True).select_option("lt")
    page.get_by_label("Threshold", exact=True).fill("1")
    page.get_by_label("Min clicks", exact=True).fill("5")
    page.get_by_label("Action", exact=True).select_option("pause")
    shot("rule-form")
    page.get_by_role("button", name="Save rule").click()
    page.wait_for_load_state()
    rule = Rule.objects.get()
    assert page.url.endswith(f"/rules/{rule.pk}/")

    for n in range(6):  # six visitors, no sale: CVR 0 %
        click_real(edge, shoes_link.token, ip=f"8.8.4.{n + 1}")
    rollups_refresh()
    page.get_by_role("button", name="Check now").click()
    page.wait_for_load_state()
    assert page.get_by_text("Fired: creative Summer 300x250 paused", exact=True).is_visible()
    assert page.locator("table.firings").get_by_text("cvr 0.000000").is_visible()
    shot("rule-fired")
    assert Creative.objects.get(pk=banner.pk).active is False
    assert page.get_by_label("Notifications: 1 unread").is_visible()

    page.get_by_role("button", name=f"Undo firing {rule.firings.get().pk}").click()
    page.wait_for_load_state()
    assert page.get_by_text("Undone: creative Summer 300x250 active again.", exact=True).is_visible()
    shot("firing-undone")
    assert Creative.objects.get(pk=banner.pk).active is True

    page.goto("/rules/")
    shot("rules-list")
    page.get_by_label("Notifications: 1 unread").click()
    assert page.get_by_text("Rule “Banner stop-loss” fired").is_visible()
    shot("notifications")
