"""Rules on a smart link's path: measured from its daily rollup, paused and resumed, its weight
changed (recorded as a manual run on the link's page), and every change undone."""

from __future__ import annotations

from decimal import Decimal

import pytest

from affiliates.core.errors import DomainError
from payouts.automation import services
from payouts.automation.models import Firing, Rule
from payouts.automation.tests.conftest import path_day, rollup, variant_day
from tracking.models.smartlinks import SmartLink, SmartRun

pytestmark = pytest.mark.django_db

STOP_LOSS = {"scope": "smart_path", "metric": "cvr", "comparison": "lt", "threshold": Decimal("1")}


def check(rule: Rule) -> Firing | None:
    return services.rule_check(rule_id=rule.pk)


def test_a_stop_loss_pauses_a_path_from_its_daily_rollup_and_undo_resumes_it(
    make_rule, summer_link, pixelpush, nadia
) -> None:
    shoes_path = summer_link.paths.get(label="shoes")
    rule = make_rule(name="Path stop", smart_path=shoes_path, action="pause", min_clicks=500, **STOP_LOSS)
    rollup(shoes_path.offer, pixelpush, gross_clicks=900, conv_approved=90)  # the offer's cube: not read
    path_day(shoes_path, clicks=300, conversions=1)
    assert check(rule) is None  # 300 clicks: below the minimum volume
    path_day(shoes_path, clicks=300, conversions=2, days_ago=1)
    firing = check(rule)
    assert firing is not None
    shoes_path.refresh_from_db()
    assert shoes_path.status == "paused"
    assert firing.target == f"smart_path:{shoes_path.pk}"
    assert (firing.values["gross_clicks"], firing.values["cvr"]) == ("600", "0.500000")
    assert firing.values["fraud_share"] is None  # the path's rollup knows no fraud flags
    assert firing.detail == "path shoes of Summer paused"
    services.firing_undo(firing=firing, by=nadia)
    shoes_path.refresh_from_db()
    assert shoes_path.status == "active"
    assert Firing.objects.get(pk=firing.pk).undo_detail == "path shoes of Summer back to active"


def test_a_rule_never_pauses_a_links_last_active_path(make_rule, summer_link) -> None:
    shoes_path, tents_path = summer_link.paths.get(label="shoes"), summer_link.paths.get(label="tents")
    tents_path.status = "paused"
    tents_path.save()
    rule = make_rule(smart_path=shoes_path, action="pause", **STOP_LOSS)
    path_day(shoes_path, clicks=100, conversions=0)
    assert check(rule) is None
    assert "last active one" in Rule.objects.get(pk=rule.pk).last_result
    shoes_path.refresh_from_db()
    assert shoes_path.status == "active"


def test_a_rule_changes_a_paths_weight_as_a_manual_run_and_undo_restores_it(
    make_rule, summer_link, nadia
) -> None:
    shoes_path = summer_link.paths.get(label="shoes")
    rule = make_rule(smart_path=shoes_path, action="set_weight", weight=15, **STOP_LOSS)
    path_day(shoes_path, clicks=400, conversions=1)
    firing = check(rule)
    assert firing is not None
    shoes_path.refresh_from_db()
    assert shoes_path.weight == 15
    assert firing.before == {"kind": "path_weight", "id": shoes_path.pk, "weight": 60}
    assert firing.detail == "path shoes weight set to 15"
    run = SmartRun.objects.filter(smart_link=summer_link).latest("id")
    assert run.outcome == SmartRun.Outcome.MANUAL
    assert run.weights_after[str(shoes_path.pk)] == 15
    assert run.note == "Automation rule Stop-loss: weight 60 -> 15."  # the rule's name says who did it
    assert check(rule) is None  # the same window fires once
    services.firing_undo(firing=firing, by=nadia)
    shoes_path.refresh_from_db()
    assert shoes_path.weight == 60
    undone = SmartRun.objects.filter(smart_link=summer_link).latest("id")
    assert undone.weights_after[str(shoes_path.pk)] == 60


def test_a_rule_changes_an_ab_variants_weight(make_rule, hero_test, nadia) -> None:
    _a, b = hero_test.variants.order_by("position")
    rule = make_rule(
        scope="variant",
        variant=b,
        metric="cvr",
        comparison="lt",
        threshold=Decimal("1"),
        action="set_weight",
        weight=10,
    )
    variant_day(b, clicks=400, conversions=1)
    firing = check(rule)
    assert firing is not None
    b.refresh_from_db()
    assert b.weight == 10
    services.firing_undo(firing=firing, by=nadia)
    b.refresh_from_db()
    assert b.weight == firing.before["weight"]


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"scope": "offer", "action": "set_weight", "weight": 5}, "no_weight"),
        ({"scope": "smart_path", "action": "set_weight"}, "weight_incomplete"),
        ({"scope": "smart_path", "action": "alert", "metric": "roas"}, "metric_not_available"),
        ({"scope": "smart_path", "action": "alert", "metric": "fraud_share"}, "metric_not_available"),
        ({"scope": "smart_path", "action": "alert", "sub1": "fb"}, "smart_path_not_narrowed"),
    ],
)
def test_rules_that_cannot_work_on_a_path_are_refused_with_a_reason(
    make_rule, summer_link, fields, code
) -> None:
    path = summer_link.paths.get(label="shoes")
    with pytest.raises(DomainError) as refused:
        make_rule(smart_path=path, **fields)
    assert refused.value.code == code


def test_a_path_of_another_offer_and_an_optimised_links_weight_are_refused(
    make_rule, summer_link, nadia
) -> None:
    tents_path = summer_link.paths.get(label="tents")  # the catch-all sends traffic to another offer
    with pytest.raises(DomainError) as refused:
        make_rule(scope="smart_path", smart_path=tents_path, action="alert")
    assert refused.value.code == "bad_smart_path"
    SmartLink.objects.filter(pk=summer_link.pk).update(mode=SmartLink.Mode.AUTO)
    with pytest.raises(DomainError) as refused:
        make_rule(smart_path=summer_link.paths.get(label="shoes"), action="set_weight", weight=5, **STOP_LOSS)
    assert refused.value.code == "weights_optimised"


def test_a_weight_rule_fails_visibly_when_its_link_turned_optimised_after_it_was_saved(
    make_rule, summer_link
) -> None:
    shoes_path = summer_link.paths.get(label="shoes")
    rule = make_rule(smart_path=shoes_path, action="set_weight", weight=5, **STOP_LOSS)
    SmartLink.objects.filter(pk=summer_link.pk).update(mode=SmartLink.Mode.AUTO)
    path_day(shoes_path, clicks=400, conversions=0)
    firing = check(rule)
    assert firing is not None
    assert firing.outcome == Firing.Outcome.FAILED
    assert "optimiser" in firing.detail
    shoes_path.refresh_from_db()
    assert shoes_path.weight == 60


def test_the_api_takes_a_smart_path_rule_and_the_advertiser_sees_it(api_as, ada, summer_link) -> None:
    shoes_path = summer_link.paths.get(label="shoes")
    client = api_as(ada)
    body = {
        "name": "Path weight down",
        "scope": "smart_path",
        "offer": shoes_path.offer_id,
        "smart_path": shoes_path.pk,
        "metric": "cpc",
        "comparison": "gt",
        "threshold": "25",
        "action": "set_weight",
        "weight": 20,
    }
    response = client.post("/api/v1/automation-rules/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["smart_path"] == shoes_path.pk
    assert response.json()["weight"] == 20
    assert response.json()["scope_label"].startswith("path shoes of smart link Summer")
    body["weight"] = 2**31
    response = client.post("/api/v1/automation-rules/", body, format="json")
    assert (response.status_code, response.json()["code"]) == (400, "max_value")
    assert "weight" in response.json()["fields"]
    body.update(weight=5, scope="offer", smart_path=None)
    response = client.post("/api/v1/automation-rules/", body, format="json")
    assert (response.status_code, response.json()["code"]) == (400, "no_weight")
