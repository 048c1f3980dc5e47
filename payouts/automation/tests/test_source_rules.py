"""Rules on a traffic source: measured from the hourly source rollup, paused through the offer's
negative list (the click path then refuses the source with reason ``blocked``), resumed by
removing that entry; who may rule on one."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from affiliates.core.errors import DomainError
from affiliates.tests.signin import sign_in
from payouts.automation import services
from payouts.automation.models import Firing, Rule
from payouts.automation.tests.conftest import source_rollup
from payouts.reports.services import floor_hour, rollups_refresh
from tracking.ids import new_click_id
from tracking.models import Click, ListEntry

pytestmark = pytest.mark.django_db

# CPC 30 NOK over 600 clicks, CVR 0.5 %.
EXPENSIVE = {"gross_clicks": 600, "conv_approved": 3, "revenue": "18000"}
RULE = {
    "name": "Feed stop-loss",
    "scope": "source",
    "source": "feed-x",
    "metric": "cpc",
    "comparison": "gt",
    "threshold": "25",
    "min_clicks": 500,
    "action": "pause",
}


def check(rule: Rule, **kw: Any) -> Firing | None:
    return services.rule_check(rule_id=rule.pk, **kw)


def source_rule(make_rule: Any, **fields: Any) -> Rule:
    """A rule on source feed-x of the shoes offer that pauses it (unless told otherwise)."""
    return make_rule(**{"scope": "source", "source": "feed-x", "action": "pause", **fields})


def test_it_fires_on_its_source_only_once_the_volume_is_there(make_rule, nok_shoes, pixelpush, rival) -> None:
    rule = source_rule(make_rule, min_clicks=500)
    source_rollup(nok_shoes, pixelpush, "feed-x", gross_clicks=499, revenue="14970")  # CPC 30, too few
    source_rollup(nok_shoes, pixelpush, "feed-y", gross_clicks=5000, revenue="150000")  # another source
    assert check(rule) is None
    assert "below the minimum volume (499 clicks" in Rule.objects.get(pk=rule.pk).last_result
    source_rollup(nok_shoes, rival, "feed-x", gross_clicks=1, revenue="30")  # any publisher counts
    firing = check(rule)
    assert firing is not None
    assert firing.metric_value == Decimal("30")
    assert (firing.values["gross_clicks"], firing.values["cost"]) == ("500", "15000.000000")
    assert firing.target == f"source:{nok_shoes.pk}:*:feed-x"


def test_every_metric_is_measured_per_source(make_rule, nok_shoes, pixelpush) -> None:
    source_rollup(
        nok_shoes,
        pixelpush,
        "feed-x",
        gross_clicks=1000,
        flagged_clicks=100,
        conv_pending=20,
        conv_approved=30,
        revenue="30000",
        payout="20000",
        sales=50,
        sale_amount="90000",
    )
    expected = {
        "cpa": "600",
        "cvr": "5",
        "cpc": "30",
        "epc": "20",
        "roas": "3",
        "margin": "10000",
        "clicks": "1000",
        "conversions": "50",
        "fraud_share": "9.5238",
    }
    for metric, value in expected.items():
        rule = source_rule(
            make_rule, metric=metric, comparison="gte", threshold=Decimal(value), action="alert"
        )
        firing = check(rule)
        assert firing is not None, metric
        assert firing.metric_value == Decimal(value)


def test_a_publisher_narrows_it(make_rule, nok_shoes, pixelpush, rival) -> None:
    rule = source_rule(make_rule, publisher=rival, action="alert")
    source_rollup(nok_shoes, pixelpush, "feed-x", **EXPENSIVE)
    source_rollup(nok_shoes, rival, "feed-x", gross_clicks=600, revenue="600")  # CPC 1
    assert check(rule) is None
    source_rollup(nok_shoes, rival, "feed-x", gross_clicks=0, revenue="17400")
    assert check(rule).target == f"source:{nok_shoes.pk}:{rival.pk}:feed-x"


def test_it_respects_its_cooldown(make_rule, nok_shoes, pixelpush) -> None:
    rule = source_rule(make_rule, window_hours=1, cooldown_minutes=120, action="alert")
    start = floor_hour(timezone.now())
    for h in range(3):
        source_rollup(nok_shoes, pixelpush, "feed-x", hour=start + timedelta(hours=h), **EXPENSIVE)
    assert check(rule, now=start + timedelta(minutes=10)) is not None
    assert check(rule, now=start + timedelta(minutes=15)) is None  # the same window
    assert check(rule, now=start + timedelta(hours=1, minutes=10)) is None
    assert "cooling down" in Rule.objects.get(pk=rule.pk).last_result
    assert check(rule, now=start + timedelta(hours=2, minutes=10)) is not None
    assert rule.firings.count() == 2


def test_it_reads_the_source_rollup_the_refresh_keeps_never_the_clicks_table(
    make_rule, nok_shoes, pixelpush
) -> None:
    now = timezone.now()
    rollups_refresh(now=now - timedelta(minutes=30))
    for n in range(6):
        at = now - timedelta(minutes=20, seconds=n)
        Click.objects.create(
            id=new_click_id(int(at.timestamp() * 1000)),
            created_at=at,
            offer=nok_shoes,
            publisher=pixelpush,
            source="feed-x" if n < 4 else "feed-y",
        )
    rollups_refresh(now=now)
    rule = source_rule(make_rule, metric="clicks", comparison="gte", threshold=Decimal(4), action="alert")
    with CaptureQueriesContext(connection) as queries:
        firing = check(rule)
    assert firing is not None
    assert firing.values["gross_clicks"] == "4"
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert "tracking_hourlysourcestat" in sql
    assert '"tracking_click"' not in sql
    assert "tracking_click " not in sql


def test_pausing_blocks_the_source_on_the_offer_and_undo_unblocks_it(make_rule, nok_shoes, pixelpush, nadia):
    source_rollup(nok_shoes, pixelpush, "feed-x", **EXPENSIVE)
    firing = check(source_rule(make_rule))
    entry = ListEntry.objects.get()
    assert (entry.offer_id, entry.advertiser_id, entry.mode, entry.kind, entry.value) == (
        nok_shoes.pk,
        nok_shoes.advertiser_id,
        "block",
        "source",
        "feed-x",
    )
    assert entry.note == "Automation rule: Stop-loss"
    assert firing.detail == f"source 'feed-x' on offer {nok_shoes.name} blocked"
    assert firing.before == {"kind": "source_block", "offer": nok_shoes.pk, "source": "feed-x", "entry": None}
    assert firing.after == {**firing.before, "entry": entry.pk}
    undone = services.firing_undo(firing=firing, by=nadia)
    assert undone.undo_detail == f"source 'feed-x' on offer {nok_shoes.name} unblocked again"
    assert not ListEntry.objects.exists()


def test_an_already_blocked_source_is_nothing_to_do(make_rule, nok_shoes, pixelpush) -> None:
    ListEntry.objects.create(
        advertiser=nok_shoes.advertiser, offer=nok_shoes, mode="block", kind="source", value="feed-x"
    )
    source_rollup(nok_shoes, pixelpush, "feed-x", **EXPENSIVE)
    rule = source_rule(make_rule)
    assert check(rule) is None
    assert "already blocked" in Rule.objects.get(pk=rule.pk).last_result


def test_a_resume_rule_unblocks_a_recovered_source_and_undo_blocks_it_again(
    make_rule, nok_shoes, pixelpush, nadia
) -> None:
    ListEntry.objects.create(
        advertiser=nok_shoes.advertiser,
        offer=nok_shoes,
        mode="block",
        kind="source",
        value="feed-x",
        note="bad",
    )
    source_rollup(nok_shoes, pixelpush, "feed-x", gross_clicks=600, revenue="600")  # CPC 1: recovered
    resume = source_rule(make_rule, comparison="lt", threshold=Decimal(5), action="resume")
    firing = check(resume)
    assert firing.detail == f"source 'feed-x' on offer {nok_shoes.name} unblocked"
    assert firing.after["entry"] is None
    assert not ListEntry.objects.exists()
    services.firing_undo(firing=firing, by=nadia)
    assert ListEntry.objects.get().note == "bad"  # the entry as it was


# --- The API and the portals ----------------------------------------------------------------------


def test_an_advertiser_pauses_a_source_of_its_offer_through_the_api(api_as, ada, nok_shoes, pixelpush):
    api = api_as(ada)
    created = api.post("/api/v1/automation-rules/", {**RULE, "offer": nok_shoes.pk}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["scope"], body["source"]) == ("source", "feed-x")
    assert body["scope_label"] == f"source 'feed-x', offer {nok_shoes.name}"
    source_rollup(nok_shoes, pixelpush, "feed-x", **EXPENSIVE)
    fired = api.post(f"/api/v1/automation-rules/{body['id']}/check/")
    assert fired.status_code == 200
    assert fired.json()["detail"] == f"source 'feed-x' on offer {nok_shoes.name} blocked"
    assert "payout" not in fired.json()["values"]
    listed = api.get("/api/v1/automation-rules/", {"scope": "source"}).json()["results"]
    assert [r["id"] for r in listed] == [body["id"]]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"source": ""}, "source_required"),
        ({"sub1": "fb"}, "source_not_narrowed"),
        (
            {"action": "set_cap", "cap_metric": "clicks", "cap_period": "day", "cap_limit": "10"},
            "action_not_available",
        ),
        ({"action": "set_weight", "weight": 3}, "no_weight"),
        ({"publisher": "pixelpush"}, "source_pause_not_exact"),
        ({"publisher": "pixelpush", "action": "resume"}, "source_pause_not_exact"),
    ],
)
def test_a_source_rule_that_cannot_work_is_refused_with_a_reason(
    api_as, nadia, nok_shoes, pixelpush, change, code
) -> None:
    if change.get("publisher") == "pixelpush":
        change = {**change, "publisher": pixelpush.pk}
    answer = api_as(nadia).post(
        "/api/v1/automation-rules/", {**RULE, "offer": nok_shoes.pk, **change}, format="json"
    )
    assert answer.status_code == 400, answer.content
    assert answer.json()["code"] == code
    assert not Rule.objects.exists()


def test_a_source_with_surrounding_spaces_cannot_be_paused_exactly(make_rule) -> None:
    # The API and the forms trim them; a list entry never keeps them, a click may carry them.
    with pytest.raises(DomainError) as refused:
        source_rule(make_rule, source=" feed-x")
    assert refused.value.code == "source_pause_not_exact"
    assert source_rule(make_rule, source=" feed-x", action="alert").source == " feed-x"


def test_narrowed_to_a_publisher_a_source_may_alert(api_as, nadia, nok_shoes, pixelpush) -> None:
    answer = api_as(nadia).post(
        "/api/v1/automation-rules/",
        {**RULE, "offer": nok_shoes.pk, "publisher": pixelpush.pk, "action": "alert"},
        format="json",
    )
    assert answer.status_code == 201, answer.content


def test_only_the_offers_advertiser_and_staff_rule_on_its_sources(api_as, gus, pia, nok_shoes) -> None:
    other = api_as(gus).post("/api/v1/automation-rules/", {**RULE, "offer": nok_shoes.pk}, format="json")
    assert other.status_code == 400
    assert other.json()["fields"]["offer"]
    publisher = api_as(pia).post("/api/v1/automation-rules/", {**RULE, "offer": nok_shoes.pk}, format="json")
    assert publisher.status_code == 403
    assert not Rule.objects.exists()


def test_the_schema_documents_the_source_scope(client) -> None:
    schema = client.get("/api/schema/", {"format": "json"}).json()
    rule = schema["components"]["schemas"]["Rule"]["properties"]
    assert "traffic source watched" in rule["source"]["description"]
    assert "source_pause_not_exact" in rule["source"]["description"]
    scope = rule["scope"]  # a $ref, wrapped in allOf beside its description
    enum = (scope.get("$ref") or scope["allOf"][0]["$ref"]).rsplit("/", 1)[1]
    assert "source" in schema["components"]["schemas"][enum]["enum"]


PORTAL_FORM = {
    "name": "Feed stop-loss",
    "scope": "source",
    "source": "feed-x",
    "metric": "cpc",
    "comparison": "gt",
    "threshold": "25",
    "window_hours": "24",
    "min_clicks": "500",
    "min_conversions": "0",
    "action": "pause",
    "cooldown_minutes": "60",
    "check_every_minutes": "5",
    "is_active": "on",
}


@pytest.mark.parametrize("who", ["ada", "nadia"])
def test_the_advertiser_and_staff_portals_take_a_source_rule(
    client, request, who, nok_shoes, pixelpush, shoes_link
) -> None:
    sign_in(client, request.getfixturevalue(who))
    form = client.get("/rules/new/").content.decode()
    assert '<option value="source">A traffic source on an offer</option>' in form
    assert 'name="source"' in form
    answer = client.post("/rules/new/", {**PORTAL_FORM, "offer": nok_shoes.pk})
    rule = Rule.objects.get()
    assert answer.status_code == 302
    assert (rule.scope, rule.source, rule.advertiser_id) == ("source", "feed-x", nok_shoes.advertiser_id)
    assert "source feed-x" in client.get("/rules/").content.decode()
    source_rollup(nok_shoes, pixelpush, "feed-x", **EXPENSIVE)
    client.post(f"/rules/{rule.pk}/check/")
    page = client.get(f"/rules/{rule.pk}/").content.decode()
    assert f"source &#x27;feed-x&#x27; on offer {nok_shoes.name} blocked" in page
    refused = client.post(
        "/rules/new/", {**PORTAL_FORM, "offer": nok_shoes.pk, "publisher": pixelpush.pk, "name": "Narrow"}
    )
    assert "source_pause_not_exact" in refused.content.decode()
    assert Rule.objects.count() == 1
