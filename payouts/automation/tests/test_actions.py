"""What a firing does: pause, resume, caps, alerts, webhooks; and undoing it."""

from __future__ import annotations

import hashlib
import hmac
import json
from decimal import Decimal

import pytest
from django.core import mail

from affiliates.core.errors import Conflict
from affiliates.models import Cap, Creative, Notification, Offer, OfferAccess
from payouts.automation import services, tasks, webhooks
from payouts.automation.models import Firing, Rule, WebhookDelivery
from payouts.automation.tests.conftest import rollup, variant_day
from payouts.tests.callback_server import local_server

pytestmark = pytest.mark.django_db

EXPENSIVE = {"gross_clicks": 600, "conv_approved": 3, "revenue": "18000"}  # CPC 30 NOK, CVR 0.5 %


def check(rule: Rule) -> Firing | None:
    return services.rule_check(rule_id=rule.pk)


def test_a_stop_loss_pauses_a_creative_whose_cpc_exceeds_25_nok(make_rule, banner, pixelpush) -> None:
    rule = make_rule(scope="creative", creative=banner, action="pause", min_clicks=500)
    rollup(banner.offer, pixelpush, **EXPENSIVE)
    firing = check(rule)
    banner.refresh_from_db()
    assert banner.active is False
    assert firing.target == f"creative:{banner.pk}"
    assert firing.before == {"kind": "creative", "id": banner.pk, "active": True}
    assert firing.values["cpc"] == "30.000000"
    assert firing.detail == "creative Summer banner paused"


def test_a_stop_loss_pauses_an_ab_variant_from_its_daily_rollup_and_undo_resumes_it(
    make_rule, hero_test, nadia
) -> None:
    a, b = hero_test.variants.order_by("position")
    common = {"scope": "variant", "metric": "cvr", "comparison": "lt", "min_clicks": 500, "action": "pause"}
    rule_b = make_rule(name="B stop", variant=b, threshold=Decimal("1"), **common)
    rule_a = make_rule(name="A stop", variant=a, threshold=Decimal("5"), **common)
    variant_day(a, clicks=600, conversions=18, revenue="5400")  # CVR 3 %: the offer's cube is not read
    variant_day(b, clicks=200, conversions=1)
    assert check(rule_b) is None  # 200 clicks: below the minimum volume
    variant_day(b, clicks=400, conversions=2, days_ago=1)  # a 24-hour window reads yesterday's too
    variant_day(b, clicks=900, conversions=0, days_ago=2)  # outside it
    firing = check(rule_b)
    b.refresh_from_db()
    assert b.status == "paused"
    assert firing.target == f"variant:{b.pk}"
    assert (firing.values["gross_clicks"], firing.values["cvr"]) == ("600", "0.500000")
    assert firing.detail == "variant B of Hero image paused"
    assert check(rule_a) is None  # A is now the test's last live variant: never paused by a rule
    assert "last active one" in Rule.objects.get(pk=rule_a.pk).last_result
    services.firing_undo(firing=firing, by=nadia)
    b.refresh_from_db()
    assert b.status == "active"


def test_a_pause_on_something_already_paused_records_nothing(make_rule, banner, pixelpush) -> None:
    Creative.objects.filter(pk=banner.pk).update(active=False)
    rule = make_rule(scope="creative", creative=banner, action="pause")
    rollup(banner.offer, pixelpush, **EXPENSIVE)
    assert check(rule) is None
    assert "nothing to do" in Rule.objects.get(pk=rule.pk).last_result
    assert not Firing.objects.exists()


def test_undo_restores_the_previous_state_and_is_recorded(make_rule, banner, pixelpush, ada) -> None:
    rule = make_rule(scope="creative", creative=banner, action="pause")
    rollup(banner.offer, pixelpush, **EXPENSIVE)
    firing = services.firing_undo(firing=check(rule), by=ada)
    banner.refresh_from_db()
    assert banner.active is True
    assert (firing.undone_by, firing.undo_detail) == (ada, "creative Summer banner active again")
    assert firing.undone_at is not None
    with pytest.raises(Conflict) as refused:
        services.firing_undo(firing=firing, by=ada)
    assert refused.value.code == "already_undone"


def test_an_alert_changes_nothing_so_there_is_nothing_to_undo(make_rule, nok_shoes, pixelpush, ada) -> None:
    rollup(nok_shoes, pixelpush, **EXPENSIVE)
    firing = check(make_rule(action="alert"))
    with pytest.raises(Conflict) as refused:
        services.firing_undo(firing=firing, by=ada)
    assert refused.value.code == "not_undoable"


def test_a_second_rule_resumes_the_creative_when_late_conversions_recover_it(
    make_rule, banner, pixelpush
) -> None:
    common = {"scope": "creative", "creative": banner, "metric": "cvr", "min_clicks": 500}
    stop = make_rule(name="CVR stop", comparison="lt", threshold=Decimal("2"), action="pause", **common)
    revive = make_rule(name="CVR revive", comparison="gte", threshold=Decimal("2"), action="resume", **common)
    rollup(banner.offer, pixelpush, **EXPENSIVE)  # 3 conversions on 600 clicks: 0.5 %
    assert check(revive) is None  # active already, and the CVR is too low anyway
    assert check(stop) is not None
    banner.refresh_from_db()
    assert banner.active is False
    rollup(banner.offer, pixelpush, sub1="late", conv_approved=12)  # late conversions: 15 / 600 = 2.5 %
    assert check(stop) is None
    firing = check(revive)
    banner.refresh_from_db()
    assert banner.active is True
    assert firing.values["cvr"] == "2.500000"
    assert firing.before == {"kind": "creative", "id": banner.pk, "active": False}


def test_pausing_a_publisher_rejects_its_access_and_undo_approves_it_again(
    make_rule, nok_shoes, pixelpush, shoes_link, nadia
) -> None:
    rule = make_rule(scope="publisher", publisher=pixelpush, action="pause")
    rollup(nok_shoes, pixelpush, **EXPENSIVE)
    firing = check(rule)
    shoes_link.refresh_from_db()
    assert shoes_link.status == OfferAccess.Status.REJECTED
    assert shoes_link.note == "Automation rule: Stop-loss"
    services.firing_undo(firing=firing, by=nadia)
    shoes_link.refresh_from_db()
    assert shoes_link.status == OfferAccess.Status.APPROVED


def test_pausing_an_offer_and_undoing_it(make_rule, nok_shoes, pixelpush, nadia) -> None:
    rollup(nok_shoes, pixelpush, **EXPENSIVE)
    firing = check(make_rule(action="pause"))
    assert Offer.objects.get(pk=nok_shoes.pk).status == Offer.Status.PAUSED
    services.firing_undo(firing=firing, by=nadia)
    assert Offer.objects.get(pk=nok_shoes.pk).status == Offer.Status.ACTIVE


def test_a_rule_can_lower_a_cap_and_undo_removes_the_cap_it_added(
    make_rule, nok_shoes, pixelpush, nadia
) -> None:
    rule = make_rule(action="set_cap", cap_metric="clicks", cap_period="day", cap_limit=Decimal("100"))
    rollup(nok_shoes, pixelpush, **EXPENSIVE)
    firing = check(rule)
    cap = Cap.objects.get(offer=nok_shoes)
    assert (cap.metric, cap.period, cap.limit, cap.publisher_id) == ("clicks", "day", Decimal("100"), None)
    services.firing_undo(firing=firing, by=nadia)
    assert not Cap.objects.filter(offer=nok_shoes).exists()


def test_undoing_a_cap_change_puts_the_old_limit_back(make_rule, nok_shoes, pixelpush, nadia) -> None:
    Cap.objects.create(offer=nok_shoes, metric="clicks", period="day", limit=Decimal("5000"))
    rule = make_rule(action="set_cap", cap_metric="clicks", cap_period="day", cap_limit=Decimal("100"))
    rollup(nok_shoes, pixelpush, **EXPENSIVE)
    firing = check(rule)
    assert Cap.objects.get(offer=nok_shoes).limit == Decimal("100")
    services.firing_undo(firing=firing, by=nadia)
    assert Cap.objects.get(offer=nok_shoes).limit == Decimal("5000")


def test_a_firing_alerts_the_advertisers_people_by_email_and_in_app(
    make_rule, nok_shoes, pixelpush, ada, django_capture_on_commit_callbacks
) -> None:
    rule = make_rule(action="alert", notify=True)
    rollup(nok_shoes, pixelpush, **EXPENSIVE)
    with django_capture_on_commit_callbacks(execute=True):
        check(rule)
    # One e-mail each, sent by the worker after commit (affiliates.tasks).
    assert sorted(m.to[0] for m in mail.outbox) == ["ada@example.com", "nadia@example.com"]
    message = mail.outbox[0]
    assert "Stop-loss" in message.subject
    assert "30.000000" in message.body
    assert f"/rules/{rule.pk}/" in message.body
    note = Notification.objects.get(recipient=ada)
    assert note.read_at is None
    assert note.link == f"/rules/{rule.pk}/"


def test_the_webhook_is_a_signed_json_post(
    make_rule, nok_shoes, pixelpush, settings, django_capture_on_commit_callbacks
) -> None:
    settings.POSTBACK_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.1/32"]
    with local_server() as server:
        rule = make_rule(action="webhook", webhook_url=f"{server.base_url}/hooks/affnet")
        rollup(nok_shoes, pixelpush, **EXPENSIVE)
        with django_capture_on_commit_callbacks(execute=True):
            firing = check(rule)
        assert len(server.hits) == 1
    hit = server.hits[0]
    assert (hit.method, hit.path, hit.headers["Content-Type"]) == (
        "POST",
        "/hooks/affnet",
        "application/json",
    )
    expected = hmac.new(rule.webhook_secret.encode(), hit.body.encode(), hashlib.sha256).hexdigest()
    assert hit.headers[webhooks.SIGNATURE_HEADER] == f"sha256={expected}"
    payload = json.loads(hit.body)
    assert payload["event"] == "rule.fired"
    assert payload["firing"]["id"] == firing.pk
    assert payload["firing"]["metric_value"] == "30.000000"
    assert payload["values"]["gross_clicks"] == "600"
    delivery = WebhookDelivery.objects.get(firing=firing)
    assert (delivery.status, delivery.attempts_count, delivery.last_status_code) == ("delivered", 1, 200)


def test_a_failed_webhook_is_retried_later(
    make_rule, nok_shoes, pixelpush, settings, django_capture_on_commit_callbacks
) -> None:
    settings.POSTBACK_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.1/32"]
    with local_server() as server:
        server.reply(503, "busy")
        rule = make_rule(action="webhook", webhook_url=f"{server.base_url}/hook")
        rollup(nok_shoes, pixelpush, **EXPENSIVE)
        with django_capture_on_commit_callbacks(execute=True):
            firing = check(rule)
        delivery = WebhookDelivery.objects.get(firing=firing)
        assert (delivery.status, delivery.last_status_code) == ("pending", 503)
        assert delivery.next_attempt_at > firing.created_at
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=firing.created_at)
        assert tasks.webhooks_retry_due() == 1
        delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts_count, len(server.hits)) == ("delivered", 2, 2)


def test_a_webhook_to_a_private_address_is_refused_and_not_retried(
    make_rule, nok_shoes, pixelpush, django_capture_on_commit_callbacks
) -> None:
    rule = make_rule(action="webhook", webhook_url="http://127.0.0.1:9/hook")
    rollup(nok_shoes, pixelpush, **EXPENSIVE)
    with django_capture_on_commit_callbacks(execute=True):
        firing = check(rule)
    delivery = WebhookDelivery.objects.get(firing=firing)
    assert (delivery.status, delivery.attempts_count, delivery.last_status_code) == ("failed", 1, None)


def test_the_beat_tick_enqueues_each_due_rule_once_and_schedules_the_next_check(
    make_rule, nok_shoes, pixelpush
) -> None:
    rollup(nok_shoes, pixelpush, **EXPENSIVE)
    due = make_rule(check_every_minutes=5)
    later = make_rule(name="later")
    Rule.objects.filter(pk=later.pk).update(next_check_at=later.next_check_at.replace(year=2999))
    assert tasks.rules_tick() == 1  # eager in tests: the check ran too
    assert due.firings.count() == 1
    due.refresh_from_db()
    assert due.next_check_at > due.last_checked_at
    assert tasks.rules_tick() == 0  # not due again for 5 minutes
