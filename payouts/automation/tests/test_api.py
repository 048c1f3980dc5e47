"""The rules API: advertisers on their offers, staff on any, publishers none; firings and undo."""

from __future__ import annotations

from decimal import Decimal

import pytest

from affiliates.models import Creative
from affiliates.tests import factories as f
from payouts.automation.models import Rule
from payouts.automation.tests.conftest import rollup, variant_day

pytestmark = pytest.mark.django_db

STOP_LOSS = {
    "name": "Banner stop-loss",
    "scope": "creative",
    "metric": "cpc",
    "comparison": "gt",
    "threshold": "25",
    "min_clicks": 500,
    "action": "pause",
}


def test_an_advertiser_creates_a_stop_loss_on_its_creative_and_checks_it(
    api_as, ada, banner, pixelpush
) -> None:
    api = api_as(ada)
    created = api.post(
        "/api/v1/automation-rules/",
        {**STOP_LOSS, "offer": banner.offer_id, "creative": banner.pk},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["window_hours"], body["check_every_minutes"], body["threshold"]) == (24, 5, "25.000000")
    assert body["scope_label"] == f"creative Summer banner, offer {banner.offer.name}"
    rollup(banner.offer, pixelpush, gross_clicks=600, revenue="18000")
    fired = api.post(f"/api/v1/automation-rules/{body['id']}/check/")
    assert fired.status_code == 200
    assert fired.json()["detail"] == "creative Summer banner paused"
    assert "payout" not in fired.json()["values"]  # advertisers never see payout
    assert fired.json()["values"]["cost"] == "18000.000000"
    firings = api.get("/api/v1/automation-firings/", {"rule": body["id"]}).json()["results"]
    assert [x["undoable"] for x in firings] == [True]
    undone = api.post(f"/api/v1/automation-firings/{firings[0]['id']}/undo/")
    assert undone.status_code == 200
    assert undone.json()["undo_detail"] == "creative Summer banner active again"
    assert Creative.objects.get(pk=banner.pk).active is True
    again = api.post(f"/api/v1/automation-firings/{firings[0]['id']}/undo/")
    assert (again.status_code, again.json()["code"]) == (409, "already_undone")
    assert api.post(f"/api/v1/automation-rules/{body['id']}/check/").status_code == 204  # window fired once


def test_an_advertiser_cannot_rule_on_another_advertisers_offer(api_as, gus, nok_shoes) -> None:
    answer = api_as(gus).post(
        "/api/v1/automation-rules/", {**STOP_LOSS, "scope": "offer", "offer": nok_shoes.pk}, format="json"
    )
    assert answer.status_code == 400
    assert answer.json()["fields"]["offer"]


def test_another_advertisers_rule_does_not_exist_for_it(api_as, gus, make_rule) -> None:
    rule = make_rule()
    assert api_as(gus).get(f"/api/v1/automation-rules/{rule.pk}/").status_code == 404
    assert api_as(gus).get("/api/v1/automation-rules/").json()["results"] == []


def test_an_advertiser_cannot_rule_on_payout_metrics(api_as, ada, nok_shoes) -> None:
    answer = api_as(ada).post(
        "/api/v1/automation-rules/",
        {**STOP_LOSS, "scope": "offer", "offer": nok_shoes.pk, "metric": "epc"},
        format="json",
    )
    assert (answer.status_code, answer.json()["code"]) == (400, "metric_not_allowed")


def test_publishers_have_no_rules(api_as, pia, make_rule) -> None:
    make_rule()
    assert api_as(pia).get("/api/v1/automation-rules/").status_code == 403
    assert api_as(pia).get("/api/v1/automation-firings/").status_code == 403


def test_staff_rule_on_any_offer_and_see_payout_metrics(api_as, nadia, nok_shoes, pixelpush) -> None:
    api = api_as(nadia)
    other = f.OfferFactory()
    created = api.post(
        "/api/v1/automation-rules/",
        {
            **STOP_LOSS,
            "scope": "offer",
            "offer": other.pk,
            "metric": "margin",
            "comparison": "lt",
            "threshold": "0",
            "action": "alert",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    assert Rule.objects.get(pk=created.json()["id"]).advertiser_id == other.advertiser_id


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"scope": "sub_id", "sub1": "fb-summer", "action": "pause"}, "not_pausable"),
        ({"action": "set_cap"}, "cap_incomplete"),
        ({"scope": "creative"}, "bad_creative"),
        ({"scope": "variant"}, "bad_variant"),
    ],
)
def test_a_rule_that_cannot_work_is_refused_with_a_reason(api_as, nadia, nok_shoes, change, code) -> None:
    answer = api_as(nadia).post(
        "/api/v1/automation-rules/",
        {**STOP_LOSS, "offer": nok_shoes.pk, "scope": "offer", **change},
        format="json",
    )
    assert answer.status_code == 400
    assert answer.json()["code"] == code


def test_a_sub_id_rule_reads_only_that_sub_id(api_as, nadia, nok_shoes, pixelpush) -> None:
    rollup(nok_shoes, pixelpush, sub1="fb-summer", gross_clicks=600, revenue="18000")
    rollup(nok_shoes, pixelpush, sub1="google", gross_clicks=600, revenue="600")
    api = api_as(nadia)
    rule = api.post(
        "/api/v1/automation-rules/",
        {**STOP_LOSS, "offer": nok_shoes.pk, "scope": "sub_id", "sub1": "google", "action": "alert"},
        format="json",
    ).json()
    assert api.post(f"/api/v1/automation-rules/{rule['id']}/check/").status_code == 204  # CPC 1 NOK
    Rule.objects.filter(pk=rule["id"]).update(sub1="fb-summer")
    fired = api.post(f"/api/v1/automation-rules/{rule['id']}/check/").json()
    assert Decimal(fired["metric_value"]) == Decimal("30")


def test_an_advertiser_cannot_name_a_publisher_it_does_not_see(api_as, ada, nok_shoes, rival) -> None:
    answer = api_as(ada).post(
        "/api/v1/automation-rules/",
        {**STOP_LOSS, "offer": nok_shoes.pk, "scope": "publisher", "publisher": rival.pk},
        format="json",
    )
    assert answer.status_code == 400
    assert answer.json()["fields"]["publisher"] == ["Invalid pk - object does not exist."]


def test_an_advertiser_rules_on_an_ab_variant_of_its_offer(api_as, ada, hero_test) -> None:
    api = api_as(ada)
    variant = hero_test.variants.get(label="B")
    rule = {**STOP_LOSS, "offer": hero_test.offer_id, "scope": "variant", "variant": variant.pk}
    refused = api.post("/api/v1/automation-rules/", {**rule, "metric": "roas"}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (400, "metric_not_available")
    narrowed = api.post("/api/v1/automation-rules/", {**rule, "sub1": "fb-summer"}, format="json")
    assert (narrowed.status_code, narrowed.json()["code"]) == (400, "variant_not_narrowed")
    created = api.post("/api/v1/automation-rules/", rule, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["scope_label"] == f"variant B of A/B test Hero image, offer {hero_test.offer.name}"
    variant_day(variant, clicks=600, conversions=3, revenue="18000")  # CPC 30 NOK
    fired = api.post(f"/api/v1/automation-rules/{created.json()['id']}/check/")
    assert fired.json()["target"] == f"variant:{variant.pk}"
    assert fired.json()["values"]["cpc"] == "30.000000"
    variant.refresh_from_db()
    assert variant.status == "paused"
