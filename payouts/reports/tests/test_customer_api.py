"""The customer-value API and the customer filters, per role: advertisers see their own
customers, publishers their own cohorts' orders and payout and never a customer id or revenue."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from affiliates.models import Offer, OfferAccess
from affiliates.offer_targets import OfferTarget
from affiliates.tests import factories as f
from payouts.reports.selectors import effect_scores
from payouts.reports.services import rollups_rebuild_all
from payouts.reports.tests.customer_story import advertiser_actor

pytestmark = pytest.mark.django_db

MONTHS = {"start": "2026-01-01", "end": "2026-02-01"}


def test_an_advertiser_reads_its_cohorts_in_its_own_terms(api_as, ada, story) -> None:
    body = api_as(ada).get("/api/v1/reports/customers/cohorts/", MONTHS).json()
    assert body["metrics"] == ["orders", "sale_amount", "cost"]
    jan = body["rows"][0]
    assert (jan["cohort_month"], jan["currency"], jan["customers"]) == ("2026-01-01", "USD", 2)
    # 30 days: C1's 100 + 50 and C2's 100 spent; cost is what those orders earned the network (12 %).
    assert jan["horizons"]["30"] == {
        "orders": 3,
        "sale_amount": "250.000000",
        "cost": "30.000000",
        "complete": True,
    }
    assert jan["horizons"]["180"]["orders"] == 5


def test_a_publisher_sees_orders_and_payout_of_its_own_customers_only(api_as, pia, story) -> None:
    client = api_as(pia)
    cohorts = client.get("/api/v1/reports/customers/cohorts/", MONTHS)
    assert cohorts.status_code == 200
    assert b"revenue" not in cohorts.content
    assert b"sale_amount" not in cohorts.content
    assert b"cost" not in cohorts.content
    rows = cohorts.json()["rows"]
    jan = next(r for r in rows if r["currency"] == "USD")  # (EUR: its customer at globex)
    assert jan["horizons"]["30"] == {"orders": 2, "payout": "12.000000", "complete": True}
    ltv = client.get("/api/v1/reports/customers/ltv/", MONTHS)
    assert (ltv.status_code, ltv.json()["code"]) == (403, "forbidden")
    mix = client.get("/api/v1/reports/customers/mix/", {"start": "2026-01-01", "end": "2026-09-14"}).json()
    assert [(r["publisher_name"], r["new_orders"], r["returning_orders"]) for r in mix] == [
        ("PixelPush Media", 2, 5)
    ]


def test_a_publisher_filtering_another_publisher_gets_nothing(api_as, pia, rival, story) -> None:
    body = api_as(pia).get("/api/v1/reports/customers/cohorts/", {**MONTHS, "publisher": rival.id}).json()
    assert body["rows"] == []


def test_ltv_cac_by_source_for_staff(api_as, nadia, acme, pixelpush, story) -> None:
    rows = (
        api_as(nadia)
        .get("/api/v1/reports/customers/ltv/", {**MONTHS, "by": "source", "advertiser": acme.id})
        .json()
    )
    blog = next(r for r in rows if r["source"] == "blog")
    assert (blog["publisher"], blog["customers"], blog["ltv"], blog["cac"], blog["ltv_cac"]) == (
        pixelpush.id,
        1,
        "24.000000",  # C1 over 90 days: 12 + 6 + 6
        "8.000000",
        "3.000000",
    )


def test_bad_report_parameters_are_a_400_with_a_code(api_as, nadia, story) -> None:
    client = api_as(nadia)
    assert client.get("/api/v1/reports/customers/ltv/", {"horizon": 45}).status_code == 400
    too_long = client.get("/api/v1/reports/customers/cohorts/", {"start": "2020-01-01", "end": "2026-01-01"})
    assert (too_long.status_code, too_long.json()["code"]) == (400, "range_too_long")


def test_conversions_and_commissions_filter_by_customer_for_advertisers_and_staff(
    api_as, ada, nadia, pia, story
) -> None:
    mine = api_as(ada).get("/api/v1/conversions/", {"customer": "C1"}).json()["results"]
    assert len(mine) == 6  # C1's five orders and the rejected one, all acme's
    assert len({r["customer_hash"] for r in mine}) == 1
    assert (
        len(api_as(nadia).get("/api/v1/conversions/", {"customer": "C1"}).json()["results"]) == 7
    )  # + globex's C1
    assert len(api_as(ada).get("/api/v1/commissions/", {"customer": "C1"}).json()["results"]) == 6
    assert api_as(ada).get("/api/v1/conversions/", {"customer": "nobody"}).json()["results"] == []


def test_publishers_never_see_or_filter_by_customer_ids(api_as, pia, story) -> None:
    client = api_as(pia)
    listed = client.get("/api/v1/conversions/").json()["results"]
    assert listed
    assert all("customer_hash" not in r for r in listed)
    assert {r["customer_type"] for r in listed} >= {"returning"}  # new/returning is theirs to see
    assert client.get("/api/v1/conversions/", {"customer": "C1"}).json()["results"] == []
    assert client.get("/api/v1/conversions/", {"ordering": "customer_hash"}).status_code == 200
    commissions = client.get("/api/v1/commissions/").json()["results"]
    assert commissions
    assert all("customer_hash" not in r for r in commissions)
    assert client.get("/api/v1/commissions/", {"customer": "C1"}).json()["results"] == []


def test_only_staff_run_the_job_on_demand(api_as, nadia, pia, ada) -> None:
    assert api_as(pia).post("/api/v1/reports/customers/refresh/").status_code == 403
    assert api_as(ada).post("/api/v1/reports/customers/refresh/").status_code == 403
    assert api_as(nadia).post("/api/v1/reports/customers/refresh/").json() == {"queued": True}


def test_the_effect_score_uses_customer_value_when_the_advertiser_chooses(
    story, acme, shoes: Offer, pixelpush, rival
) -> None:
    f.OfferAccessFactory(offer=shoes, publisher=rival, status=OfferAccess.Status.APPROVED)
    OfferTarget.objects.create(offer=shoes, conversions=10)
    rollups_rebuild_all(start=datetime(2026, 1, 1, tzinfo=UTC), end=datetime(2026, 3, 1, tzinfo=UTC))
    window = {"start": datetime(2026, 1, 1).date(), "end": datetime(2026, 2, 28).date(), "offer": shoes.id}

    def scores() -> dict[int, tuple[Decimal | None, Decimal | None]]:
        report = effect_scores(actor=advertiser_actor(acme), **window)
        return {r["publisher"]: (r["effect_score"], r.get("value_multiple")) for r in report.rows}

    first_order = scores()
    assert first_order[pixelpush.id][1] is None  # value_horizon_days 0: first orders, unchanged
    acme.value_horizon_days = 90
    acme.save(update_fields=["value_horizon_days"])
    weighted = scores()
    assert weighted[pixelpush.id][1] == Decimal("1.75")  # 42 over 90 days / 24 of first orders
    assert weighted[pixelpush.id][0] == (first_order[pixelpush.id][0] * Decimal("1.75")).quantize(
        Decimal("0.000001")
    )
    assert weighted[rival.id] == (first_order[rival.id][0], Decimal("1"))


def test_an_advertiser_chooses_its_value_horizon_and_never_sees_its_customer_key(api_as, ada, acme) -> None:
    client = api_as(ada)
    changed = client.patch(f"/api/v1/advertisers/{acme.id}/", {"value_horizon_days": 90}, format="json")
    assert changed.status_code == 200, changed.content
    assert changed.json()["value_horizon_days"] == 90
    assert "customer_key" not in changed.json()
    refused = client.patch(f"/api/v1/advertisers/{acme.id}/", {"value_horizon_days": 45}, format="json")
    assert refused.status_code == 400
    acme.refresh_from_db()
    assert acme.value_horizon_days == 90
