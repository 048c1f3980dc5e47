"""The attribution comparison, participation and the journey in the trace, per role."""

from __future__ import annotations

from typing import Any

import pytest

from affiliates.tests import factories as f
from payouts.journeys.services import journeys_refresh
from payouts.journeys.tests.journey_story import AS_OF, three_touches
from tracking.models import Conversion

pytestmark = pytest.mark.django_db
DAY = {"start": "2026-11-20", "end": "2026-11-20"}


@pytest.fixture
def beta(db: Any) -> Any:
    return f.PublisherFactory(name="Beta Deals")


@pytest.fixture
def story(shoes: Any, pixelpush: Any, rival: Any, beta: Any) -> Conversion:
    conv = three_touches(shoes, rival, beta, pixelpush)
    journeys_refresh(as_of=AS_OF, days=3)
    return conv


def test_an_advertiser_compares_the_models_with_revenue_and_deltas_against_last_click(
    api_as, ada, story, pixelpush, rival, beta
) -> None:
    response = api_as(ada).get("/api/v1/reports/attribution/", DAY)
    assert response.status_code == 200
    assert b"payout" not in response.content
    body = response.json()
    assert body["models"] == ["last_click", "first_click", "linear", "position_based", "time_decay", "markov"]
    rows = {r["publisher"]: r["models"] for r in body["rows"]}
    assert rows[pixelpush.id]["last_click"] == {"conversions": "1.00", "revenue": "12.00", "delta": {}}
    assert rows[rival.id]["first_click"] == {
        "conversions": "1.00",
        "revenue": "12.00",
        "delta": {"conversions": "1.00", "revenue": "12.00"},
    }
    assert rows[pixelpush.id]["linear"] == {
        "conversions": "0.33",
        "revenue": "4.00",
        "delta": {"conversions": "-0.67", "revenue": "-8.00"},
    }
    # 1/7, 2/7, 4/7 of 12.00; 40/20/40 of 12.00.
    assert [rows[p]["time_decay"]["revenue"] for p in (rival.id, beta.id, pixelpush.id)] == [
        "1.71",
        "3.43",
        "6.86",
    ]
    assert [rows[p]["position_based"]["revenue"] for p in (rival.id, beta.id, pixelpush.id)] == [
        "4.80",
        "2.40",
        "4.80",
    ]


def test_a_publisher_sees_only_its_own_row_with_payout_and_never_revenue(
    api_as, pia, story, pixelpush
) -> None:
    response = api_as(pia).get("/api/v1/reports/attribution/", {**DAY, "by": "sub1"})
    assert b"revenue" not in response.content
    rows = response.json()["rows"]
    assert [(r["publisher"], r["sub1"]) for r in rows] == [(pixelpush.id, "cashback")]
    assert rows[0]["models"]["linear"]["payout"] == "2.67"


def test_another_advertiser_sees_no_touches(api_as, gus, story) -> None:
    assert api_as(gus).get("/api/v1/reports/attribution/", DAY).json()["rows"] == []


def test_participation_counts_each_role_and_the_share_of_credit(
    api_as, ada, story, pixelpush, rival, beta
) -> None:
    rows = (
        api_as(ada)
        .get("/api/v1/reports/attribution/participation/", {**DAY, "model": "position_based"})
        .json()
    )
    by = {r["publisher"]: r for r in rows}
    assert by[rival.id] == {
        "publisher": rival.id,
        "conversions_touched": 1,
        "introducer": 1,
        "influencer": 0,
        "closer": 0,
        "credited_conversions": "0.40",
        "credit_share": "40.00",
    }
    assert (by[beta.id]["influencer"], by[pixelpush.id]["closer"]) == (1, 1)


def test_view_through_journeys_are_kept_apart(api_as, ada, story) -> None:
    body = api_as(ada).get("/api/v1/reports/attribution/", {**DAY, "scope": "view_through"}).json()
    assert body["rows"] == []


def test_a_range_too_long_is_a_clear_400(api_as, ada, story) -> None:
    response = api_as(ada).get("/api/v1/reports/attribution/", {"start": "2024-01-01", "end": "2026-11-20"})
    assert (response.status_code, response.json()["code"]) == (400, "out_of_range")


def test_the_trace_shows_the_journey_without_other_publishers_to_a_publisher(
    api_as, pia, ada, story, rival
) -> None:
    mine = api_as(pia).get(f"/api/v1/conversions/{story.id}/").json()["trace"]["journey"]
    assert [t["role"] for t in mine["touches"]] == ["introducer", "influencer", "closer"]
    assert "publisher_id" not in mine["touches"][0]
    assert "click_id" not in mine["touches"][0]
    assert mine["touches"][2]["sub1"] == "cashback"
    theirs = api_as(ada).get(f"/api/v1/conversions/{story.id}/").json()["trace"]["journey"]
    assert theirs["touches"][0]["publisher_id"] == rival.id
    assert theirs["touches"][0]["credit"]["position_based"] == "0.4"


def test_only_staff_queue_the_journey_job(api_as, ada) -> None:
    response = api_as(ada).post("/api/v1/reports/attribution/refresh/")
    assert (response.status_code, response.json()["code"]) == (403, "forbidden")
