"""Customer value (issue 15): cohorts, new vs returning, LTV:CAC, computed by the job into
tables and read per role. Every expected number below is worked out by hand in the docstring
of ``story``."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from payouts.models import CohortRollup, Customer, CustomerMixRollup
from payouts.reports.customers.selectors import cohort_table, customer_mix, customer_value, ltv_cac
from payouts.reports.customers.services import customer_value_refresh
from payouts.reports.dimensions import ReportError
from payouts.reports.tests.customer_story import (
    AS_OF,
    JAN10,
    advertiser_actor,
    order,
    publisher_actor,
    staff,
)
from tracking.conversions.customers import customer_hash

pytestmark = pytest.mark.django_db


def _cells(table: Any, month: date, horizon: int) -> dict[str, Any]:
    row = next(r for r in table.rows if r["cohort_month"] == month and r["currency"] == "USD")
    return row["horizons"][str(horizon)]


def test_returning_orders_land_in_the_right_30_60_90_180_columns(story, acme) -> None:
    table = cohort_table(actor=staff(), start=date(2026, 1, 1), end=date(2026, 2, 1), advertiser=acme.id)
    jan, feb = date(2026, 1, 1), date(2026, 2, 1)
    assert [(r["cohort_month"], r["customers"]) for r in table.rows] == [(jan, 2), (feb, 1)]
    expected = {30: (3, "30", "20"), 60: (4, "36", "24"), 90: (4, "36", "24"), 180: (5, "42", "28")}
    for horizon, (orders, revenue, payout) in expected.items():
        cell = _cells(table, jan, horizon)
        assert (cell["orders"], cell["revenue"], cell["payout"]) == (
            orders,
            Decimal(revenue),
            Decimal(payout),
        )
        assert cell["margin"] == Decimal(revenue) - Decimal(payout)
        assert cell["complete"] is True
    for horizon in (30, 60, 90, 180):
        cell = _cells(table, feb, horizon)
        assert (cell["orders"], cell["revenue"], cell["payout"]) == (2, Decimal("18"), Decimal("12"))


def test_the_first_conversions_publisher_owns_the_customer(story, acme, pixelpush, rival) -> None:
    firsts = dict(Customer.objects.filter(advertiser=acme).values_list("first_at", "publisher_id"))
    assert firsts == {
        JAN10: pixelpush.id,
        datetime(2026, 1, 25, 9, tzinfo=UTC): rival.id,
        datetime(2026, 2, 5, 15, tzinfo=UTC): pixelpush.id,
    }
    mine = cohort_table(actor=staff(), start=date(2026, 2, 1), end=date(2026, 2, 1), publisher=pixelpush.id)
    assert _cells(mine, date(2026, 2, 1), 30)["orders"] == 2  # rival's repeat counts for the owner
    theirs = cohort_table(actor=staff(), start=date(2026, 2, 1), end=date(2026, 2, 1), publisher=rival.id)
    assert theirs.rows == []


def test_new_vs_returning_per_publisher_reported_type_first(story, acme, pixelpush, rival) -> None:
    rows = customer_mix(actor=advertiser_actor(acme), start=date(2026, 1, 1), end=date(2026, 9, 14))
    got = {r["publisher"]: (r["new_orders"], r["returning_orders"], r["new_share"]) for r in rows}
    assert got == {
        pixelpush.id: (1, 5, Decimal("16.666667")),
        rival.id: (2, 1, Decimal("66.666667")),
    }
    assert all("publisher_name" not in r for r in rows)  # advertisers see publisher ids only
    by_source = customer_mix(actor=staff(), start=date(2026, 1, 1), end=date(2026, 1, 31), by="source")
    assert {
        (r["publisher_name"], r["source"], r["new_orders"], r["returning_orders"]) for r in by_source
    } == {
        ("PixelPush Media", "blog", 1, 1),  # acme's C1: its first order and day 10
        ("PixelPush Media", "", 1, 0),  # globex's C1, a new customer there (staff see every advertiser)
        ("Rival Traffic", "", 1, 0),
    }


def test_ltv_cac_per_publisher_for_staff_and_for_the_advertiser(story, acme, pixelpush, rival) -> None:
    months = {"start": date(2026, 1, 1), "end": date(2026, 2, 1), "advertiser": acme.id}
    rows = {r["publisher"]: r for r in ltv_cac(actor=staff(), **months)}
    assert (rows[pixelpush.id]["customers"], rows[pixelpush.id]["ltv"], rows[pixelpush.id]["cac"]) == (
        2,
        Decimal("21"),
        Decimal("8"),
    )
    assert rows[pixelpush.id]["ltv_cac"] == Decimal("2.625")
    assert (rows[rival.id]["ltv"], rows[rival.id]["cac"], rows[rival.id]["ltv_cac"]) == (
        Decimal("12"),
        Decimal("8"),
        Decimal("1.5"),
    )
    # The advertiser: what its customers spent (100 + 50 + 50, 100 + 50) over what their first orders cost it.
    mine = {
        r["publisher"]: r
        for r in ltv_cac(actor=advertiser_actor(acme), start=months["start"], end=months["end"])
    }
    assert (mine[pixelpush.id]["ltv"], mine[pixelpush.id]["cac"]) == (Decimal("175"), Decimal("12"))
    assert mine[pixelpush.id]["ltv_cac"] == Decimal("14.583333")
    at_180 = {r["publisher"]: r for r in ltv_cac(actor=staff(), horizon=180, **months)}
    assert at_180[pixelpush.id]["ltv"] == Decimal("24")  # (30 + 18) / 2


def test_a_publisher_sees_its_own_cohorts_orders_and_payout_never_revenue(story, pixelpush, acme) -> None:
    table = cohort_table(actor=publisher_actor(pixelpush), start=date(2026, 1, 1), end=date(2026, 2, 1))
    cell = _cells(table, date(2026, 1, 1), 30)
    assert cell == {"orders": 2, "payout": Decimal("12"), "complete": True}  # C1 only, not rival's C2
    assert [r["customers"] for r in table.rows if r["currency"] == "USD"] == [1, 1]
    with pytest.raises(ReportError) as refused:
        ltv_cac(actor=publisher_actor(pixelpush), start=date(2026, 1, 1), end=date(2026, 2, 1))
    assert refused.value.status_code == 403
    mix = customer_mix(actor=publisher_actor(pixelpush), start=date(2026, 1, 1), end=date(2026, 9, 1))
    assert {r["publisher"] for r in mix} == {pixelpush.id}


def test_an_advertiser_never_sees_another_advertisers_customers(story, acme, globex) -> None:
    theirs = cohort_table(actor=advertiser_actor(globex), start=date(2026, 1, 1), end=date(2026, 2, 1))
    assert [(r["currency"], r["customers"]) for r in theirs.rows] == [("EUR", 1)]
    assert set(theirs.rows[0]["horizons"]["30"]) == {"orders", "sale_amount", "cost", "complete"}
    mine = cohort_table(
        actor=advertiser_actor(acme), start=date(2026, 1, 1), end=date(2026, 2, 1), advertiser=globex.id
    )
    assert mine.rows == []
    assert customer_hash(key=acme.customer_key, customer_id="C1") != customer_hash(
        key=globex.customer_key, customer_id="C1"
    )


def _tables() -> tuple[list[Any], ...]:
    return (
        sorted(
            Customer.objects.values_list(
                "advertiser_id", "customer_hash", "first_conversion_id", "publisher_id"
            )
        ),
        sorted(
            CohortRollup.objects.values_list(
                "advertiser_id",
                "cohort_month",
                "publisher_id",
                "source_id",
                "horizon_days",
                "currency",
                "customers",
                "orders",
                "revenue",
                "payout",
                "sale_amount",
                "acquisition_revenue",
                "acquisition_payout",
            )
        ),
        sorted(
            CustomerMixRollup.objects.values_list(
                "advertiser_id", "day", "publisher_id", "source_id", "new_orders", "returning_orders"
            )
        ),
    )


def test_the_job_is_idempotent_full_or_windowed(story) -> None:
    first = _tables()
    assert len(first[0]) == 4
    assert first[1]
    assert first[2]
    customer_value_refresh(as_of=AS_OF)  # the windowed pass: cohorts before March are final
    assert _tables() == first
    customer_value_refresh(as_of=AS_OF, full=True)
    assert _tables() == first


def test_the_windowed_pass_keeps_final_cohorts_and_recounts_recent_ones(
    story, shoes, pixelpush, acme
) -> None:
    late = datetime(2026, 9, 1, tzinfo=UTC)
    order(shoes, pixelpush, late, customer="C4")
    order(
        shoes, pixelpush, late + timedelta(days=1), customer="C1", amount="50"
    )  # an old customer, returning
    result = customer_value_refresh(as_of=AS_OF)
    assert result.window_start == datetime(2026, 3, 1, tzinfo=UTC)
    sept = cohort_table(actor=staff(), start=date(2026, 9, 1), end=date(2026, 9, 1))
    assert sept.rows[0]["customers"] == 1
    assert sept.rows[0]["horizons"]["30"]["complete"] is False
    mix = customer_mix(actor=staff(), start=date(2026, 9, 1), end=date(2026, 9, 2))
    assert [(r["new_orders"], r["returning_orders"]) for r in mix] == [(1, 1)]
    jan = cohort_table(actor=staff(), start=date(2026, 1, 1), end=date(2026, 1, 1), advertiser=acme.id)
    assert _cells(jan, date(2026, 1, 1), 180)["orders"] == 5  # unchanged: day 234 is past every horizon


def test_customer_value_is_the_multiple_of_first_order_value(story, acme, pixelpush, rival) -> None:
    window = {"advertiser_id": acme.id, "start": date(2026, 1, 1), "end": date(2026, 2, 28)}
    assert customer_value(horizon_days=90, **window) == {
        pixelpush.id: Decimal("1.75"),
        rival.id: Decimal("1"),
    }
    assert customer_value(horizon_days=0, **window) == {pixelpush.id: Decimal(1), rival.id: Decimal(1)}
