"""The rule pages: list, create, history with values, undo; and the notification bell."""

from __future__ import annotations

import pytest

from affiliates.models import Creative, Notification
from affiliates.tests.signin import sign_in
from payouts.automation.models import Rule
from payouts.automation.tests.conftest import rollup

pytestmark = pytest.mark.django_db

FORM = {
    "name": "Banner stop-loss",
    "scope": "creative",
    "metric": "cpc",
    "comparison": "gt",
    "threshold": "25",
    "window_hours": "24",
    "min_clicks": "500",
    "min_conversions": "0",
    "action": "pause",
    "notify": "on",
    "cooldown_minutes": "60",
    "check_every_minutes": "5",
    "is_active": "on",
}


def test_an_advertiser_creates_a_rule_watches_it_fire_and_undoes_it(client, ada, banner, pixelpush) -> None:
    sign_in(client, ada)
    assert client.get("/rules/").status_code == 200
    answer = client.post("/rules/new/", {**FORM, "offer": banner.offer_id, "creative": banner.pk})
    rule = Rule.objects.get()
    assert answer.status_code == 302
    assert answer["Location"] == f"/rules/{rule.pk}/"
    rollup(banner.offer, pixelpush, gross_clicks=600, revenue="18000")
    client.post(f"/rules/{rule.pk}/check/")
    page = client.get(f"/rules/{rule.pk}/").content.decode()
    assert "creative Summer banner paused" in page
    assert "cpc 30.000000" in page
    assert "payout" not in page.split("Firing history")[1]
    assert Creative.objects.get(pk=banner.pk).active is False
    firing = rule.firings.get()
    client.post(f"/rules/firings/{firing.pk}/undo/")
    assert Creative.objects.get(pk=banner.pk).active is True
    assert "active again" in client.get(f"/rules/{rule.pk}/").content.decode()
    # The alert reached the bell.
    assert 'aria-label="Notifications: 1 unread"' in client.get("/rules/").content.decode()
    assert "Banner stop-loss" in client.get("/account/notifications/").content.decode()
    client.post("/account/notifications/read/")
    assert Notification.objects.get(recipient=ada).read_at is not None


def test_the_form_refuses_a_rule_that_cannot_work(client, ada, nok_shoes) -> None:
    sign_in(client, ada)
    answer = client.post("/rules/new/", {**FORM, "offer": nok_shoes.pk, "scope": "sub_id", "sub1": "x"})
    assert answer.status_code == 200
    assert "not_pausable" in answer.content.decode()
    assert not Rule.objects.exists()


def test_the_form_offers_the_offers_ab_variants(client, ada, hero_test) -> None:
    sign_in(client, ada)
    variant = hero_test.variants.get(label="B")
    assert "B (Hero image, " in client.get("/rules/new/").content.decode()
    form = {**FORM, "offer": hero_test.offer_id, "scope": "variant", "variant": variant.pk, "metric": "cvr"}
    answer = client.post("/rules/new/", {**form, "comparison": "lt", "threshold": "1"})
    assert answer.status_code == 302
    assert Rule.objects.get().variant == variant
    assert "variant B (Hero image)" in client.get("/rules/").content.decode()


def test_another_advertisers_rule_is_not_found(client, gus, make_rule) -> None:
    rule = make_rule()
    sign_in(client, gus)
    assert client.get(f"/rules/{rule.pk}/").status_code == 404
    assert client.post(f"/rules/{rule.pk}/check/").status_code == 404


def test_publishers_have_no_rule_pages(client, pia) -> None:
    sign_in(client, pia)
    assert client.get("/rules/").status_code == 404


def test_staff_see_every_rule(client, nadia, make_rule) -> None:
    make_rule(name="Network watch")
    sign_in(client, nadia)
    assert "Network watch" in client.get("/rules/").content.decode()


def test_staff_edit_a_rule_and_the_admin_lists_it(client, nadia, make_rule, nok_shoes) -> None:
    rule = make_rule(name="Network watch")
    sign_in(client, nadia)
    assert client.get(f"/rules/{rule.pk}/edit/").status_code == 200
    answer = client.post(
        f"/rules/{rule.pk}/edit/",
        {**FORM, "name": "Network watch (tight)", "scope": "offer", "offer": nok_shoes.pk, "action": "alert"},
    )
    assert answer.status_code == 302
    rule.refresh_from_db()
    assert (rule.name, rule.min_clicks) == ("Network watch (tight)", 500)
    assert "Network watch (tight)" in client.get("/admin/automation/rule/").content.decode()
