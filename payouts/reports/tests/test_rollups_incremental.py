"""The refresh adds only what is new since its exact watermark, and still counts late clicks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from payouts.reports.services import rollup_rebuild, rollups_refresh
from payouts.reports.tests.traffic import cpc_line, traffic_write
from tracking.ids import new_click_id
from tracking.models import Click
from tracking.models.reports import (
    DailyGeoStat,
    DailyOfferStat,
    DailyStat,
    HourlyGeoStat,
    HourlyOfferStat,
    HourlySourceStat,
    HourlyStat,
    ReportState,
)

DAY0 = datetime(2024, 3, 9, tzinfo=UTC)
NOW = datetime(2024, 5, 2, 10, 20, 7, 123456, tzinfo=UTC)
TABLES = (
    HourlyStat,
    HourlyOfferStat,
    HourlyGeoStat,
    HourlySourceStat,
    DailyStat,
    DailyOfferStat,
    DailyGeoStat,
)


def click_at(at: datetime, offer: Any, publisher: Any) -> None:
    Click.objects.create(
        id=new_click_id(int(at.timestamp() * 1000)), created_at=at, offer=offer, publisher=publisher
    )


def clicks_rolled_up() -> int:
    return sum(HourlyStat.objects.values_list("gross_clicks", flat=True))


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every rollup row, without ids, with amounts as strings (SQLite sums them as floats)."""
    out = {}
    for model in TABLES:
        names = [f.attname for f in model._meta.concrete_fields if f.attname != "id"]
        out[model.__name__] = sorted(tuple(str(v) for v in row) for row in model.objects.values_list(*names))
    return out


def test_the_watermark_is_the_refresh_time_less_the_traffic_lag(
    settings: Any, shoes: Any, pixelpush: Any
) -> None:
    settings.REPORTS_TRAFFIC_LAG_SECONDS = 60
    rollups_refresh(now=NOW)
    assert ReportState.objects.get().rolled_up_to == NOW - timedelta(seconds=60)
    click_at(NOW + timedelta(seconds=10), shoes, pixelpush)
    click_at(NOW + timedelta(seconds=70), shoes, pixelpush)

    # The second click is within the lag: not yet, and not lost either.
    result = rollups_refresh(now=NOW + timedelta(seconds=130))
    assert result.rolled_up_to == ReportState.objects.get().rolled_up_to == NOW + timedelta(seconds=70)
    assert (result.rows_added, clicks_rolled_up()) == (1, 1)

    rollups_refresh(now=NOW + timedelta(seconds=131))
    assert clicks_rolled_up() == 2


def test_a_click_stored_late_is_counted_when_its_hour_is_checked_again(
    settings: Any, shoes: Any, pixelpush: Any
) -> None:
    settings.REPORTS_LATE_CHECK_SECONDS = 900
    rollups_refresh(now=NOW)
    click_at(NOW - timedelta(minutes=10), shoes, pixelpush)  # stored after the watermark passed it

    rollups_refresh(now=NOW + timedelta(minutes=5))
    assert clicks_rolled_up() == 0
    hour_end = NOW.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    rollups_refresh(now=hour_end + timedelta(seconds=899))
    assert clicks_rolled_up() == 0

    result = rollups_refresh(now=hour_end + timedelta(seconds=900))
    assert (result.hours_rebuilt, clicks_rolled_up()) == (1, 1)
    assert rollups_refresh(now=hour_end + timedelta(hours=1)).hours_rebuilt == 0  # checked once


def test_a_pass_with_nothing_new_writes_nothing_but_the_watermark(shoes: Any, pixelpush: Any) -> None:
    click_at(NOW - timedelta(minutes=1), shoes, pixelpush)
    rollups_refresh(now=NOW)
    before = snapshot()

    with CaptureQueriesContext(connection) as queries:
        result = rollups_refresh(now=NOW + timedelta(minutes=4))

    writes = [q["sql"] for q in queries if q["sql"].split()[0].upper() in ("INSERT", "UPDATE", "DELETE")]
    assert [w.split()[1] for w in writes] == ['"tracking_reportstate"']
    assert (result.rows_added, result.hours_rebuilt, result.dirty_marks_cleared) == (0, 0, 0)
    assert snapshot() == before


# 17 minutes: several passes inside each hour, starting at a different minute of each (17 and 60
# share no factor), so passes straddle every kind of hour and day boundary; 45: passes longer
# than half an hour. (7 did the same in 617 passes, the slowest test of the suite.)
@pytest.mark.parametrize("step_minutes", [17, 45])
def test_adding_pass_by_pass_writes_what_one_rebuild_writes(
    step_minutes: int, shoes: Any, boots: Any, pixelpush: Any, rival: Any
) -> None:
    """Traffic, conversions (with their dirty marks) and a CPC line over three days, added in
    steps that cross hour and day boundaries, equal one rebuild of the range."""
    traffic_write(seed=3, offers=[shoes, boots], publishers=[pixelpush, rival], start=DAY0, hours=72)
    cpc_line(offer=boots, publisher=rival, goal=boots.goals.get(code="click"), day=DAY0, clicks=37)
    end = DAY0 + timedelta(days=3)
    now = DAY0 - timedelta(minutes=1)
    while now < end + timedelta(minutes=step_minutes):
        rollups_refresh(now=now)
        now += timedelta(minutes=step_minutes)
    added = snapshot()

    for model in TABLES:
        model.objects.all().delete()
    rollup_rebuild(start=DAY0 - timedelta(days=1), end=end + timedelta(hours=1))
    assert added == snapshot()
    assert clicks_rolled_up() == Click.objects.count() > 0
