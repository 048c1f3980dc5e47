"""seed_demo gives the demo network a month of activity through the product's own paths:
raw traffic, reconciliation, decisions, a paid payout run and report rollups; a second run
changes nothing.

Seeding takes most of this module's time, so it seeds once (``seeded``) and the tests read
what it wrote; the two that seed again do it in their own transaction, rolled back after them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db.models import F

from affiliates.roles import Actor, Role
from payouts.automation.models import Rule
from payouts.demo import features
from payouts.incrementality.report import holdout_report_current
from payouts.management.commands.seed_demo import demo_window_days
from payouts.models import Commission, Document, Entry, Payout, PayoutRun, Transaction
from payouts.reports.selectors import report_rows
from tracking.models import (
    AbTest,
    Click,
    Conversion,
    HoldoutTest,
    Impression,
    Journey,
    JourneyRun,
    SmartLink,
    UnreconciledConversion,
)
from tracking.models.policy import FrequencyCap, ListEntry

# One xdist worker takes the whole module (make test runs --dist loadgroup), so it seeds once.
pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("demo_activity")]
MOMENT = datetime(2024, 7, 20, 15, 30, tzinfo=UTC)
FIRST_DAY = date(2024, 6, 17)  # 30 days back is 06-21; the window reaches the last 14 of June
STATUSES = {"pending", "approved", "rejected", "reversed"}


def _seed() -> str:
    out = StringIO()
    call_command("seed_demo", "--clicks-per-link", "3", stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def seeded(module_db: None, django_db_blocker: Any) -> str:
    """seed_demo's output of its first run at MOMENT, shared by the module's tests."""
    with django_db_blocker.unblock(), time_machine.travel(MOMENT, tick=False):
        return _seed()


@pytest.fixture
def frozen() -> Iterator[None]:
    with time_machine.travel(MOMENT, tick=False):
        yield


def _everything() -> dict[str, list[tuple[Any, ...]]]:
    models = [
        m for name in ("affiliates", "tracking", "payouts") for m in apps.get_app_config(name).get_models()
    ]
    return {m.__name__: sorted(map(repr, m.objects.values_list())) for m in models}


def test_the_module_is_one_work_unit_under_loadgroup(request: pytest.FixtureRequest) -> None:
    """make test's --dist loadgroup keeps this module on one worker, so it seeds once; pytest
    9.2 with pytest-xdist 3.8 silently dropped the groups (pyproject.toml pins pytest below it)."""
    if getattr(request.config.option, "loadgroup", False):  # set in xdist's workers
        assert request.node.nodeid.endswith("@demo_activity"), request.node.nodeid


def test_the_window_always_covers_two_weeks_of_last_month() -> None:
    assert demo_window_days(date(2024, 7, 20)) == (date(2024, 7, 20) - FIRST_DAY).days + 1
    assert demo_window_days(date(2024, 7, 2)) == 30
    assert demo_window_days(date(2024, 7, 31)) == 45


def test_seed_demo_builds_a_month_of_activity_through_the_product(seeded: str, frozen: None) -> None:
    out = seeded

    assert set(Conversion.objects.values_list("status", flat=True)) == STATUSES
    assert set(Commission.objects.values_list("status", flat=True)) == STATUSES
    assert set(Commission.objects.values_list("kind", flat=True)) == {"conversion", "cpc", "cpm"}
    assert not UnreconciledConversion.objects.exists()
    # The month's traffic; the shoppers' half year of history (payouts.demo.features) is older.
    month = Click.objects.filter(created_at__date__gte=FIRST_DAY)
    assert month.earliest("created_at").created_at.date() == FIRST_DAY
    run = PayoutRun.objects.get()
    assert (run.period, run.status) == (date(2024, 6, 1), PayoutRun.Status.PAID)
    assert Payout.objects.filter(run=run, status=Payout.Status.PAID).exists()
    # The demo's FX rates let a balance in another currency than the publisher's reach its
    # minimum, so it is paid instead of held for want of a rate.
    assert Payout.objects.filter(run=run).exclude(currency=F("publisher__payout_currency")).exists()
    assert Commission.objects.filter(status="reversed", reversed_at__gte=run.paid_at).count() == 1
    assert "payout run 2024-06 paid" in out
    assert "Report rollups rebuilt" in out
    # Last month's documents, issued as the monthly job does, when the network's issuer details
    # are set (the embedded mode has demo ones; with DATABASE_URL nothing is made up).
    kinds = set(Document.objects.filter(period=date(2024, 6, 1)).values_list("kind", flat=True))
    if settings.ISSUER_LEGAL_NAME:
        assert {"invoice", "statement"} <= kinds
        assert "Documents for 2024-06:" in out
    else:
        assert kinds == set()
        assert "Documents for 2024-06 not issued: Set ISSUER_LEGAL_NAME" in out


def test_the_ledger_balances_in_every_transaction(seeded: str) -> None:
    totals: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    for txn_id, currency, amount in Entry.objects.values_list("transaction_id", "currency", "amount"):
        totals[(txn_id, currency)] += amount
    assert len({t for t, _ in totals}) == Transaction.objects.count() > 1000
    assert not any(totals.values())


def test_report_totals_equal_the_raw_events(seeded: str, frozen: None) -> None:
    report = report_rows(actor=Actor(role=Role.STAFF), start=FIRST_DAY, end=MOMENT.date(), group_by=["day"])

    assert report.source == "daily"  # read from the rollups the seed rebuilt
    summed: dict[str, Any] = defaultdict(int)
    for row in report.totals:
        for metric in ("gross_clicks", "impressions", *(f"conv_{s}" for s in STATUSES)):
            summed[metric] += row[metric]
    # The rollups cover the window; the demo's returning shoppers bought before it.
    window = {"created_at__date__gte": FIRST_DAY}
    assert summed["gross_clicks"] == Click.objects.filter(**window).count()
    assert summed["impressions"] == Impression.objects.count() > 0
    for status in STATUSES:
        assert summed[f"conv_{status}"] == Conversion.objects.filter(status=status, **window).count()
    earning = Commission.objects.filter(status__in=("pending", "approved")).exclude(
        conversion__created_at__date__lt=FIRST_DAY
    )
    for row in report.totals:
        assert row["revenue"] == sum(
            earning.filter(currency=row["currency"]).values_list("revenue", flat=True)
        )


def test_running_seed_demo_again_changes_nothing(seeded: str, frozen: None) -> None:
    before = _everything()

    out = _seed()

    assert _everything() == before
    assert "Demo network already complete, nothing changed." in out
    assert "Traffic and money already complete, nothing changed." in out


def test_a_later_run_adds_only_what_happened_since_and_never_rewrites_the_past(seeded: str) -> None:
    old = dict(Transaction.objects.values_list("key", "created_at"))
    clicks = Click.objects.count()

    with time_machine.travel(MOMENT + timedelta(days=3), tick=False):
        out = _seed()

    new = dict(Transaction.objects.values_list("key", "created_at"))
    assert all(new[key] == at for key, at in old.items())
    added = [at for key, at in new.items() if key not in old]
    assert added
    assert min(added) >= MOMENT.replace(minute=0)  # the first run's clock: nothing backdated
    assert Click.objects.count() > clicks
    assert "3 days written" in out
    assert PayoutRun.objects.count() == 1


def test_the_optimisation_and_measurement_features_have_results_from_their_own_jobs(
    seeded: str, frozen: None
) -> None:
    smart = SmartLink.objects.get(name=features.SMART_LINK)
    assert smart.paths.filter(is_catch_all=False).count() == 3
    run = smart.runs.get()
    assert run.outcome == "applied"
    weights = {int(k): v for k, v in run.weights_after.items()}
    boots = smart.paths.get(label="Trail boots").pk
    assert weights[boots] == max(weights.values())  # the best-converting path gained the traffic
    test = AbTest.objects.get(name=features.AB_TEST)
    assert test.looks_done == 1
    assert test.last_look["verdict"] == "winner"
    assert test.last_look["winner"] == test.variants.get(label="B: video").pk
    holdout = HoldoutTest.objects.get(name=features.HOLDOUT)
    report = holdout.result or holdout_report_current(test=holdout)
    lift = report["lift"]
    assert lift["visitors_exposed"] > lift["visitors_control"] > 0
    assert lift["conversions_exposed"] > 0
    assert lift["relative_lift"] is not None
    assert JourneyRun.objects.exists()
    assert Journey.objects.filter(publishers__gte=3).count() >= 10
    firing = Rule.objects.get(name=features.RULE).firings.get()
    assert firing.target.startswith("variant:")
    assert ListEntry.objects.filter(value=features.BLOCKED).exists()
    assert FrequencyCap.objects.exists()
