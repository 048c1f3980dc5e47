"""The staff console's audit log in the browser: a change made in the advertiser portal shows
up with who, from where and before -> after, and the filters narrow it. Screenshots kept."""

from __future__ import annotations

import pytest

from affiliates.services import publisher_transition
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_find_an_advertisers_change_in_the_audit_log(page, shot, nadia, ada, shoes, rival, api_as):
    api_as(ada).patch(f"/api/v1/offers/{shoes.pk}/", {"name": "Acme Shoes - Autumn", "hold_days": 45},
                      format="json", REMOTE_ADDR="203.0.113.7")  # fmt: skip
    publisher_transition(publisher=rival, action="suspend", by=nadia)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    login(page, "nadia")

    page.goto("/staff/audit/")
    assert page.locator("h1").inner_text() == "Audit log"
    shot("all")
    page.get_by_label("Object", exact=True).select_option("offer")
    page.get_by_label("Action").select_option("update")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_load_state()
    rows = page.get_by_role("table", name="Audit entries").locator("tbody tr")
    assert rows.count() == 1
    text = rows.first.inner_text()
    assert "Acme Shoes - Summer Sale" in text
    assert "Acme Shoes - Autumn" in text
    assert "203.0.113.7" in text
    assert "ada" in text
    shot("offer-updates")
    assert errors == []


def test_a_publisher_sees_its_own_activity_without_the_staff_address(page, shot, nadia, pia, pixelpush):
    publisher_transition(publisher=pixelpush, action="suspend", by=nadia)
    publisher_transition(publisher=pixelpush, action="approve", by=nadia)
    login(page, "pia")
    page.goto("/publisher/audit/")
    rows = page.get_by_role("table", name="Audit entries").locator("tbody tr")
    assert rows.count() >= 2
    assert "network" in rows.first.inner_text()
    assert page.get_by_role("columnheader", name="From").count() == 0
    shot("publisher-activity")
