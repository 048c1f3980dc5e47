"""The hourly source cube (automation rules on a traffic source) equals the raw events per source."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.models import Count, Sum
from django.test.utils import CaptureQueriesContext

from payouts.models import Commission, CommissionShare
from payouts.reports.services import rollup_rebuild, rollups_refresh
from payouts.reports.tests.traffic import traffic_write
from payouts.traffic import traffic_reconcile
from tracking.ids import new_click_id
from tracking.models import Click, Conversion
from tracking.models.reports import HourlyOfferStat, HourlySourceStat

pytestmark = pytest.mark.django_db

DAY0 = datetime(2024, 3, 9, tzinfo=UTC)
COUNTERS = (
    "gross_clicks",
    "unique_clicks",
    "flagged_clicks",
    "conv_pending",
    "conv_approved",
    "conv_flagged",
)
AMOUNTS = ("revenue", "payout", "sale_amount")


def cube_by_source(offer: Any) -> dict[str, dict[str, Any]]:
    rows = (
        HourlySourceStat.objects.filter(offer=offer)
        .values("source")
        .annotate(clicks=Sum("gross_clicks"), conversions=Sum("conv_pending") + Sum("conv_approved"))
    )
    return {r["source"]: {"clicks": r["clicks"], "conversions": r["conversions"]} for r in rows}


def raw_by_source(offer: Any) -> dict[str, dict[str, Any]]:
    clicks = dict(Click.objects.filter(offer=offer).values_list("source").annotate(n=Count("pk")))
    earning = Conversion.objects.filter(offer=offer, status__in=["pending", "approved"])
    conversions = dict(earning.values_list("source_id").annotate(n=Count("pk")))
    return {
        source: {"clicks": clicks.get(source, 0), "conversions": conversions.get(source, 0)}
        for source in {*clicks, *conversions}
    }


def test_a_rebuild_counts_each_source_as_the_raw_events_do_and_sums_to_the_offer_cube(
    shoes: Any, boots: Any, pixelpush: Any, rival: Any
) -> None:
    traffic_write(seed=11, offers=[shoes, boots], publishers=[pixelpush, rival], start=DAY0, hours=48)
    rollup_rebuild(start=DAY0, end=DAY0 + timedelta(days=2))

    for offer in (shoes, boots):
        assert cube_by_source(offer) == raw_by_source(offer)
        assert {"feed-a", "feed-b"} <= set(cube_by_source(offer))
    # The same events regrouped: every counter and amount equals the offer cube's.
    names = (*COUNTERS, *AMOUNTS)
    by_source = HourlySourceStat.objects.aggregate(**{n: Sum(n) for n in names})
    by_offer = HourlyOfferStat.objects.aggregate(**{n: Sum(n) for n in names})
    assert by_source == by_offer
    # Conversion money follows its conversion's source.
    feed_a = HourlySourceStat.objects.filter(source="feed-a").aggregate(r=Sum("revenue"))["r"]
    raw = Commission.objects.filter(
        conversion__source_id="feed-a", status__in=["pending", "approved"]
    ).aggregate(r=Sum("revenue"))["r"]
    assert feed_a == raw > 0


def test_the_refresh_adds_new_events_per_source_without_a_second_read(shoes: Any, pixelpush: Any) -> None:
    now = datetime(2024, 5, 2, 10, 20, tzinfo=UTC)
    rollups_refresh(now=now)
    for n, source in enumerate(["news", "news", "social", ""]):
        at = now + timedelta(seconds=10 + n)
        Click.objects.create(
            id=new_click_id(int(at.timestamp() * 1000)),
            created_at=at,
            offer=shoes,
            publisher=pixelpush,
            source=source,
        )

    with CaptureQueriesContext(connection) as queries:
        result = rollups_refresh(now=now + timedelta(minutes=5))

    assert result.rows_added == 1  # one full-rollup key (the sources are not in its key)
    reads = [q["sql"] for q in queries if "tracking_click" in q["sql"] and q["sql"].startswith("SELECT")]
    assert len(reads) == 1  # the source cube came from the same fetch
    assert cube_by_source(shoes) == {
        "news": {"clicks": 2, "conversions": 0},
        "social": {"clicks": 1, "conversions": 0},
        "": {"clicks": 1, "conversions": 0},
    }


def test_cpc_line_money_lands_on_the_sources_of_the_clicks_it_paid(
    shoes: Any, boots: Any, pixelpush: Any, rival: Any
) -> None:
    traffic_write(seed=13, offers=[boots], publishers=[pixelpush, rival], start=DAY0, hours=24)
    traffic_reconcile(day_from=DAY0.date(), day_to=DAY0.date())  # boots pays CPC: daily lines
    rollup_rebuild(start=DAY0, end=DAY0 + timedelta(days=1))

    earning = ["pending", "approved"]
    for source in ("", "feed-a", "feed-b"):
        lines = CommissionShare.objects.filter(
            source=source, commission__status__in=earning, commission__kind="cpc"
        ).aggregate(r=Sum("revenue"))["r"]
        conversions = Commission.objects.filter(
            kind="conversion", status__in=earning, conversion__source_id=source
        ).aggregate(r=Sum("revenue"))["r"]
        cube = HourlySourceStat.objects.filter(source=source).aggregate(r=Sum("revenue"))["r"]
        assert lines > 0
        assert cube == lines + (conversions or 0)
