"""GET /api/v1/reports/: role scoping, time zones, CSV, bad input; effect-score targets."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from payouts.reports.services import rollup_rebuild
from payouts.reports.tests.traffic import commission_for, traffic_write
from tracking.ids import new_click_id
from tracking.models import Click, Conversion

DAY0 = datetime(2024, 6, 3, tzinfo=UTC)
URL = "/api/v1/reports/"
RANGE = {"start": "2024-06-03", "end": "2024-06-05"}


@pytest.fixture
def traffic(shoes: Any, boots: Any, pixelpush: Any, rival: Any) -> None:
    traffic_write(seed=11, offers=[shoes, boots], publishers=[pixelpush, rival], start=DAY0, hours=72)
    rollup_rebuild(start=DAY0, end=DAY0 + timedelta(days=3))


def _get(client: Any, **params: str) -> Any:
    response = client.get(URL, params)
    assert response.status_code == 200, response.content
    return response.json()


def test_a_publisher_sees_only_its_own_traffic_and_never_revenue(
    traffic: Any, api_as: Any, pia: Any, pixelpush: Any
) -> None:
    body = _get(api_as(pia), **RANGE, group_by="publisher,offer")

    assert {row["publisher"] for row in body["rows"]} == {pixelpush.id}
    assert "payout" in body["columns"]
    assert "epc" in body["columns"]
    for secret in ("revenue", "margin", "cost", "cpa", "roas", "effect_score"):
        assert secret not in body["columns"]
        assert all(secret not in total for total in body["totals"])
    expected = Click.objects.filter(
        publisher=pixelpush, created_at__gte=DAY0, created_at__lt=DAY0 + timedelta(days=3)
    ).count()
    assert sum(t["gross_clicks"] for t in body["totals"]) == expected


def test_a_publisher_asking_for_another_publisher_gets_nothing(
    traffic: Any, api_as: Any, pia: Any, rival: Any
) -> None:
    body = _get(api_as(pia), **RANGE, publisher=str(rival.id))

    assert body["rows"] == []
    assert body["totals"] == []


def test_an_advertiser_sees_its_offers_as_cost_never_the_publisher_payout(
    traffic: Any, api_as: Any, ada: Any, shoes: Any, boots: Any
) -> None:
    body = _get(api_as(ada), **RANGE, group_by="offer,publisher")

    assert {row["offer"] for row in body["rows"]} == {shoes.id}
    assert "cost" in body["columns"]
    assert "roas" in body["columns"]
    assert "publisher_name" not in body["columns"]
    for secret in ("payout", "margin", "epc", "revenue"):
        assert secret not in body["columns"]
    foreign = _get(api_as(ada), **RANGE, offer=str(boots.id))
    assert foreign["rows"] == []


def test_staff_see_every_tenant_and_margin_per_currency(traffic: Any, api_as: Any, nadia: Any) -> None:
    body = _get(api_as(nadia), **RANGE, group_by="offer")

    assert {t["currency"] for t in body["totals"]} == {"USD", "EUR"}
    for total in body["totals"]:
        assert Decimal(total["margin"]) == Decimal(total["revenue"]) - Decimal(total["payout"])
    assert body["source"] == "daily"


def test_a_user_without_a_role_is_refused(traffic: Any, api_as: Any, db: Any) -> None:
    from affiliates.tests.factories import UserFactory

    response = api_as(UserFactory(username="nobody")).get(URL, RANGE)

    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def test_days_follow_the_requested_time_zone(shoes: Any, pixelpush: Any, api_as: Any, nadia: Any) -> None:
    # 03:30 UTC on June 4th is still June 3rd in New York (UTC-4 in summer).
    at = datetime(2024, 6, 4, 3, 30, tzinfo=UTC)
    Click.objects.create(
        id=new_click_id(int(at.timestamp() * 1000)), created_at=at, offer=shoes, publisher=pixelpush
    )
    rollup_rebuild(start=DAY0, end=DAY0 + timedelta(days=3))

    utc = _get(api_as(nadia), **RANGE)
    new_york = _get(api_as(nadia), **RANGE, tz="America/New_York")
    hours = _get(api_as(nadia), **RANGE, tz="America/New_York", group_by="hour")

    assert [(r["day"], r["gross_clicks"]) for r in utc["rows"]] == [("2024-06-04", 1)]
    assert [(r["day"], r["gross_clicks"]) for r in new_york["rows"]] == [("2024-06-03", 1)]
    assert new_york["source"] == "hourly"
    assert [r["hour"] for r in hours["rows"]] == ["2024-06-03T23:00:00-04:00"]


def test_a_half_hour_zone_is_answered_exactly_from_raw_events(
    shoes: Any, pixelpush: Any, api_as: Any, nadia: Any
) -> None:
    # 18:20 UTC is 23:50 in Kolkata; 18:40 UTC is 00:10 the next day: one UTC hour, two local days.
    for minute in (20, 40):
        at = datetime(2024, 6, 3, 18, minute, tzinfo=UTC)
        Click.objects.create(
            id=new_click_id(int(at.timestamp() * 1000)), created_at=at, offer=shoes, publisher=pixelpush
        )
    rollup_rebuild(start=DAY0, end=DAY0 + timedelta(days=3))

    body = _get(api_as(nadia), **RANGE, tz="Asia/Kolkata")

    assert body["source"] == "raw"
    assert [(r["day"], r["gross_clicks"]) for r in body["rows"]] == [("2024-06-03", 1), ("2024-06-04", 1)]


def test_sub2_reports_read_raw_events_within_31_days(traffic: Any, api_as: Any, nadia: Any) -> None:
    body = _get(api_as(nadia), **RANGE, group_by="sub2")
    too_long = api_as(nadia).get(URL, {"start": "2024-01-01", "end": "2024-03-01", "group_by": "sub2"})

    assert body["source"] == "raw"
    assert sum(t["gross_clicks"] for t in body["totals"]) == Click.objects.count()
    assert too_long.status_code == 400
    assert too_long.json()["code"] == "range_too_long"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"group_by": "weekday"}, "bad_group_by"),
        ({"tz": "Mars/Olympus"}, "bad_timezone"),
        ({"start": "2024-06-05", "end": "2024-06-01"}, "bad_range"),
        ({"offer": "abc"}, "bad_filter"),
        ({"order_by": "password"}, "bad_order"),
        ({"start": "2020-01-01", "end": "2024-01-01"}, "range_too_long"),
        ({"start": "June"}, "invalid"),
    ],
)
def test_bad_parameters_get_a_400_with_a_code(
    api_as: Any, nadia: Any, params: dict[str, str], code: str
) -> None:
    response = api_as(nadia).get(URL, {**RANGE, **params})

    assert response.status_code == 400
    assert response.json()["code"] == code


def test_csv_export_has_the_columns_rows_and_a_totals_line(traffic: Any, api_as: Any, pia: Any) -> None:
    response = api_as(pia).get(URL, {**RANGE, "group_by": "day", "format": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(response.content.decode())))
    header = lines[0]
    body = [line for line in lines[1:] if line[0] != "Total"]
    totals = [line for line in lines[1:] if line[0] == "Total"]
    assert header[:2] == ["day", "currency"]
    assert "revenue" not in header
    assert {line[1] for line in totals} == {"USD", "EUR"}  # one totals line per currency
    clicks = header.index("gross_clicks")
    assert sum(int(line[clicks]) for line in body) == sum(int(line[clicks]) for line in totals) > 0


def test_csv_neutralises_formula_sub_ids(shoes: Any, pixelpush: Any, api_as: Any, nadia: Any) -> None:
    at = DAY0 + timedelta(hours=2)
    Click.objects.create(
        id=new_click_id(int(at.timestamp() * 1000)),
        created_at=at,
        offer=shoes,
        publisher=pixelpush,
        sub1="=HYPERLINK(1)",
    )
    rollup_rebuild(start=DAY0, end=DAY0 + timedelta(days=1))

    response = api_as(nadia).get(URL, {**RANGE, "group_by": "sub1", "format": "csv"})

    assert "'=HYPERLINK(1)" in response.content.decode()


def test_csv_errors_still_answer_json(api_as: Any, nadia: Any) -> None:
    response = api_as(nadia).get(URL, {**RANGE, "group_by": "nope", "format": "csv"})

    assert response.status_code == 400
    assert response.json()["code"] == "bad_group_by"


def test_an_advertiser_sets_a_target_and_sees_effect_scores_per_publisher(
    shoes: Any, pixelpush: Any, rival: Any, api_as: Any, ada: Any, rex: Any
) -> None:
    sale = shoes.goals.get(code="sale")
    for n, (publisher, flags) in enumerate([(pixelpush, []), (pixelpush, []), (rival, ["velocity"])]):
        conversion = Conversion.objects.create(
            created_at=DAY0 + timedelta(hours=n),
            offer=shoes,
            publisher=publisher,
            goal=sale,
            status="approved",
            amount=Decimal("100"),
            currency="USD",
            txn_id=f"e{n}",
            fraud_flags=flags,
        )
        commission_for(conversion)
    rollup_rebuild(start=DAY0, end=DAY0 + timedelta(days=1))

    assert (
        api_as(rex)
        .put(f"/api/v1/offer-targets/{shoes.id}/", {"conversions": 70, "period": "week"})
        .status_code
        == 404
    )
    response = api_as(ada).put(f"/api/v1/offer-targets/{shoes.id}/", {"conversions": 70, "period": "week"})
    assert response.status_code == 200, response.content
    body = (
        api_as(ada)
        .get(
            "/api/v1/reports/effect/",
            {"start": "2024-06-03", "end": "2024-06-03", "by": "publisher", "offer": shoes.id},
        )
        .json()
    )

    scores = {row["publisher"]: Decimal(row["effect_score"]) for row in body["rows"]}
    # target 70/week -> 10 for one day; pixelpush: 2/10 attainment x quality 1 / CPA 12 = 0.016667
    assert scores[pixelpush.id] == Decimal("0.016667")
    # rival: 1/10 x quality 0 (its only traffic is flagged) / 12 = 0
    assert scores[rival.id] == Decimal("0")
    assert body["rows"][0]["publisher"] == pixelpush.id
    assert api_as(rex).get("/api/v1/reports/effect/", {"by": "publisher"}).status_code == 403


INVALID_BY_REASON = (
    "bot_clicks",
    "datacenter_clicks",
    "duplicate_clicks",
    "flood_clicks",
    "invalidated_clicks",
)


def test_invalid_clicks_are_columns_of_their_own_by_reason_for_staff_and_advertisers(
    traffic: Any, api_as: Any, nadia: Any, ada: Any, pia: Any
) -> None:
    staff = _get(api_as(nadia), **RANGE, group_by="offer")
    for column in (*INVALID_BY_REASON, "paid_clicks", "invalid_impressions"):
        assert column in staff["columns"]
    usd = next(t for t in staff["totals"] if t["currency"] == "USD")
    assert usd["bot_clicks"] > 0
    assert usd["invalidated_clicks"] > 0
    assert usd["paid_clicks"] < usd["unique_clicks"]
    advertiser = _get(api_as(ada), **RANGE)
    assert all(column in advertiser["columns"] for column in INVALID_BY_REASON)
    publisher = _get(api_as(pia), **RANGE)
    assert "paid_clicks" in publisher["columns"]
    assert not any(column in publisher["columns"] for column in INVALID_BY_REASON)
