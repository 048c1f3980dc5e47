"""Checking a rule: each metric and comparison, minimum volume, cooldown, one firing per window."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from payouts.automation import services
from payouts.automation.models import Firing, Rule
from payouts.automation.tests.conftest import rollup
from payouts.reports.services import floor_hour

pytestmark = pytest.mark.django_db

# 1000 clicks (100 flagged), 50 conversions, 30000 NOK cost, 20000 NOK payout, 90000 NOK of sales.
WINDOW = {
    "gross_clicks": 1000,
    "flagged_clicks": 100,
    "conv_pending": 20,
    "conv_approved": 30,
    "revenue": "30000",
    "payout": "20000",
    "sales": 50,
    "sale_amount": "90000",
}
EXPECTED = {
    "cpa": Decimal("600"),
    "cvr": Decimal("5"),
    "cpc": Decimal("30"),
    "epc": Decimal("20"),
    "roas": Decimal("3"),
    "margin": Decimal("10000"),
    "clicks": Decimal("1000"),
    "conversions": Decimal("50"),
    "fraud_share": Decimal("9.5238"),  # 100 of 1050 clicks and conversions flagged
}


def check(rule: Rule, **kw) -> Firing | None:
    return services.rule_check(rule_id=rule.pk, **kw)


@pytest.mark.parametrize("metric", sorted(EXPECTED))
def test_each_metric_is_read_from_the_rollups_as_the_reports_define_it(
    make_rule, nok_shoes, pixelpush, metric
) -> None:
    rollup(nok_shoes, pixelpush, **WINDOW)
    at_least = make_rule(metric=metric, comparison="gte", threshold=EXPECTED[metric])
    above = make_rule(metric=metric, comparison="gt", threshold=EXPECTED[metric])
    firing = check(at_least)
    assert firing is not None
    assert firing.metric_value == EXPECTED[metric]
    assert check(above) is None
    assert "does not meet the condition" in Rule.objects.get(pk=above.pk).last_result


@pytest.mark.parametrize(
    ("comparison", "threshold", "fires"),
    [
        ("gt", "29.99", True),
        ("gt", "30", False),
        ("gte", "30", True),
        ("gte", "30.01", False),
        ("lt", "30.01", True),
        ("lt", "30", False),
        ("lte", "30", True),
        ("lte", "29.99", False),
    ],
)
def test_each_comparison_holds_exactly_at_its_boundary(
    make_rule, nok_shoes, pixelpush, comparison, threshold, fires
) -> None:
    rollup(nok_shoes, pixelpush, **WINDOW)  # CPC 30 NOK
    rule = make_rule(comparison=comparison, threshold=Decimal(threshold))
    assert (check(rule) is not None) is fires


def test_it_reads_only_its_window_its_offer_and_its_currency(make_rule, nok_shoes, pixelpush, acme) -> None:
    rule = make_rule(window_hours=2, metric="clicks", comparison="gte", threshold=Decimal(1))
    rollup(nok_shoes, pixelpush, hour=timezone.now() - timedelta(hours=2), gross_clicks=500)  # too old
    assert check(rule) is None
    rollup(nok_shoes, pixelpush, hour=timezone.now() - timedelta(hours=1), gross_clicks=7)
    assert check(rule).values["gross_clicks"] == "7"


def test_an_undefined_metric_never_fires(make_rule, nok_shoes, pixelpush) -> None:
    rollup(nok_shoes, pixelpush, gross_clicks=10)  # no sales: ROAS is n/a, not 0
    rule = make_rule(metric="roas", comparison="lt", threshold=Decimal("1"))
    assert check(rule) is None
    assert "undefined" in Rule.objects.get(pk=rule.pk).last_result


def test_it_waits_for_the_minimum_volume(make_rule, nok_shoes, pixelpush) -> None:
    rule = make_rule(metric="cvr", comparison="lt", threshold=Decimal("2"), min_clicks=500)
    rollup(nok_shoes, pixelpush, gross_clicks=499)  # CVR 0 %, but too few clicks to judge
    assert check(rule) is None
    assert "below the minimum volume (499 clicks" in Rule.objects.get(pk=rule.pk).last_result
    rollup(nok_shoes, pixelpush, gross_clicks=1, sub1="x")
    assert check(rule) is not None


def test_a_minimum_of_conversions_is_honoured_too(make_rule, nok_shoes, pixelpush) -> None:
    rule = make_rule(metric="cpa", comparison="gt", threshold=Decimal("100"), min_conversions=51)
    rollup(nok_shoes, pixelpush, **WINDOW)  # CPA 600 over 50 conversions
    assert check(rule) is None


def test_checking_one_window_twice_fires_once(make_rule, nok_shoes, pixelpush) -> None:
    rollup(nok_shoes, pixelpush, **WINDOW)
    rule = make_rule()
    now = floor_hour(timezone.now()) + timedelta(minutes=10)
    first = check(rule, now=now)
    assert first is not None
    assert check(rule, now=now + timedelta(minutes=5)) is None  # the next tick: the same window
    assert Rule.objects.get(pk=rule.pk).last_result == "already fired in this window"
    assert Firing.objects.filter(rule=rule).count() == 1


def test_the_database_refuses_a_second_firing_of_a_window(make_rule, nok_shoes, pixelpush) -> None:
    rollup(nok_shoes, pixelpush, **WINDOW)
    firing = check(make_rule())
    with pytest.raises(IntegrityError), transaction.atomic():
        Firing.objects.create(
            rule=firing.rule,
            target=firing.target,
            window_start=firing.window_start,
            window_end=firing.window_end,
            metric_value=1,
            action="alert",
        )


def test_a_rule_stays_quiet_during_its_cooldown(make_rule, nok_shoes, pixelpush) -> None:
    rule = make_rule(window_hours=1, cooldown_minutes=120)
    start = floor_hour(timezone.now())
    for h in range(4):
        rollup(nok_shoes, pixelpush, hour=start + timedelta(hours=h), **WINDOW)
    assert check(rule, now=start + timedelta(minutes=10)) is not None
    assert check(rule, now=start + timedelta(hours=1, minutes=10)) is None  # a new window, but cooling down
    assert "cooling down" in Rule.objects.get(pk=rule.pk).last_result
    assert check(rule, now=start + timedelta(hours=2, minutes=10)) is not None  # 120 min later
    assert rule.firings.count() == 2


def test_an_inactive_rule_is_not_checked(make_rule, nok_shoes, pixelpush) -> None:
    rollup(nok_shoes, pixelpush, **WINDOW)
    rule = make_rule(is_active=False)
    assert check(rule) is None
    assert rule.firings.count() == 0


def test_a_check_reads_the_rollups_never_the_clicks_table(make_rule, nok_shoes, pixelpush) -> None:
    rollup(nok_shoes, pixelpush, sub1="fb", **WINDOW)
    rules = [
        make_rule(),
        make_rule(scope="sub_id", sub1="fb"),
        make_rule(scope="publisher", publisher=pixelpush),
    ]
    with CaptureQueriesContext(connection) as queries:
        for rule in rules:
            check(rule)
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert "tracking_hourlyofferstat" in sql
    assert "tracking_hourlystat" in sql
    assert '"tracking_click"' not in sql
    assert "tracking_click " not in sql
