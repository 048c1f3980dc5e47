"""The A/B test and budget-shift pages read the one range picker: their figures cover the days
picked, each against the previous period, and a bad range is a 400 with its reason."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from affiliates.team_models import StaffMember, StaffRole
from affiliates.tests import factories as f
from affiliates.tests.signin import sign_in
from payouts.experiments.models import BudgetShift
from payouts.experiments.tests.conftest import day_row, make_test

pytestmark = pytest.mark.django_db

TODAY = timezone.now().date()
FIRST, LAST = TODAY - timedelta(days=9), TODAY - timedelta(days=3)
RANGE = f"range=custom&start={FIRST}&end={LAST}"


def test_the_test_list_and_page_show_the_range_against_the_previous_period(client, ada, shoes) -> None:
    test = make_test(shoes)
    a, b = test.variants.order_by("position")
    day_row(a, FIRST + timedelta(days=1), 200, 10, Decimal("2"))  # in the range
    day_row(b, FIRST + timedelta(days=2), 100, 2, Decimal("2"))
    day_row(a, FIRST - timedelta(days=3), 100, 4, Decimal("2"))  # the previous period
    day_row(a, TODAY, 999, 99)  # after the range
    sign_in(client, ada)

    listing = client.get(f"/ab-tests/?{RANGE}")
    assert listing.status_code == 200
    row = listing.context["rows"][0]["range"]
    assert (row.now.clicks, row.now.conversions, row.before.clicks) == (300, 12, 100)
    assert row.now.cvr == Decimal("4.00")
    kpis = {k.key: k for k in listing.context["kpis"]}
    assert (kpis["clicks"].value, kpis["clicks"].previous) == (300, 100)
    body = listing.content.decode()
    assert "+200 (+200.0%)" in body  # clicks against the previous period
    assert 'data-range="custom"' in body

    page = client.get(f"/ab-tests/{test.pk}/?{RANGE}")
    assert page.status_code == 200
    ranged = {r["variant"].label: r["range"] for r in page.context["ranged"]}
    assert (ranged["A"].now.clicks, ranged["A"].now.epc) == (200, Decimal("0.1000"))
    assert ranged["A"].epc_delta.previous == Decimal("0.0800")  # 4 x 2.00 over 100 clicks
    assert (ranged["B"].now.clicks, ranged["B"].before.clicks) == (100, 0)
    assert 'data-delta="epc"' in page.content.decode()
    assert "Variants at the last look" in page.content.decode()

    quiet = client.get(f"/ab-tests/{test.pk}/?{RANGE}&compare=0")
    assert 'data-delta="clicks"' not in quiet.content.decode()
    bad = client.get("/ab-tests/?start=2026-02-30&end=2026-03-01")
    assert bad.status_code == 400
    assert 'data-code="bad_date"' in bad.content.decode()


def _shift(advertiser, week, status) -> BudgetShift:
    return BudgetShift.objects.create(
        advertiser=advertiser, week=week, lever="publisher_cap", scope="offer:1", bottom="publisher:1 Low",
        top="publisher:2 High", share="0.25", numbers={}, changes={}, status=status,
    )  # fmt: skip


def test_budget_shifts_list_the_weeks_of_the_range_and_count_them_against_the_period_before(
    client, ada, acme, globex, nadia
) -> None:
    monday = LAST - timedelta(days=LAST.weekday())
    in_range = _shift(acme, monday, BudgetShift.Status.APPLIED)
    _shift(acme, monday - timedelta(days=7), BudgetShift.Status.UNDONE)  # overlaps the range's start
    old = _shift(acme, FIRST - timedelta(days=14), BudgetShift.Status.PROPOSED)  # the previous period
    _shift(globex, monday, BudgetShift.Status.APPLIED)  # another advertiser's
    sign_in(client, ada)
    response = client.get(f"/budget-shifts/?{RANGE}")
    assert response.status_code == 200
    shown = {s.pk for s in response.context["shifts"]}
    assert in_range.pk in shown
    assert old.pk not in shown
    kpis = {k.key: k for k in response.context["kpis"]}
    assert (kpis["proposals"].value, kpis["proposals"].previous) == (2, 1)
    assert (kpis["applied"].value, kpis["undone"].value) == (1, 1)
    assert 'data-delta="proposals"' in response.content.decode()
    assert client.get("/budget-shifts/?range=nope").status_code == 400

    # An account manager of Acme sees Acme's shifts only, whatever advertiser is asked for.
    manager = f.UserFactory(username="amy", is_staff=True)
    StaffMember.objects.create(user=manager, role=StaffRole.ACCOUNT_MANAGER)
    manager.account_assignments.create(advertiser=acme)
    sign_in(client, manager)
    theirs = client.get(f"/budget-shifts/?{RANGE}")
    assert {s.advertiser_id for s in theirs.context["shifts"]} == {acme.pk}
    other = client.get(f"/budget-shifts/?{RANGE}&advertiser={globex.pk}")
    assert other.context["advertiser"] is None
    assert globex.name not in other.content.decode()
    sign_in(client, nadia)
    every = client.get(f"/budget-shifts/?{RANGE}")
    assert {s.advertiser_id for s in every.context["shifts"]} == {acme.pk, globex.pk}
