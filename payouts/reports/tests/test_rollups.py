"""Rollups equal raw events, exactly, through status changes, late data and re-runs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.db.models import Count, Q, Sum
from django.test.utils import CaptureQueriesContext

from affiliates.roles import Actor, Role
from payouts.models import Commission
from payouts.reports.selectors import report_rows
from payouts.reports.services import rollup_rebuild, rollups_refresh
from payouts.reports.tests.traffic import cpc_line, traffic_write
from payouts.traffic import traffic_reconcile
from tracking.ids import new_click_id
from tracking.models import Click, Conversion, Impression
from tracking.models.reports import DailyStat, HourlyStat, ReportDirtyHour

STAFF = Actor(role=Role.STAFF, user_id=1)


def as_staff(offer: Any, publisher: Any) -> Actor:
    return STAFF


def as_advertiser(offer: Any, publisher: Any) -> Actor:
    return Actor(role=Role.ADVERTISER, user_id=2, advertiser_id=offer.advertiser_id)


def as_publisher(offer: Any, publisher: Any) -> Actor:
    return Actor(role=Role.PUBLISHER, user_id=3, publisher_id=publisher.pk)


DAY0 = datetime(2024, 3, 9, tzinfo=UTC)  # spans the US DST change of 2024-03-10
ADDITIVE = (
    "impressions",
    "gross_clicks",
    "unique_clicks",
    "invalid_clicks",
    "flagged_clicks",
    "paid_clicks",
    "bot_clicks",
    "datacenter_clicks",
    "duplicate_clicks",
    "flood_clicks",
    "invalidated_clicks",
    "invalid_impressions",
    "conv_pending",
    "conv_approved",
    "conv_rejected",
    "conv_reversed",
    "conv_flagged",
    "revenue",
    "payout",
    "sale_amount",
    "sales",
)


def raw_totals(currency: str, start: datetime, end: datetime) -> dict[str, Any]:
    """The expected numbers, counted straight from the raw tables with plain ORM queries."""
    clicks = Click.objects.filter(created_at__gte=start, created_at__lt=end, offer__currency=currency)
    conversions = Conversion.objects.filter(
        created_at__gte=start, created_at__lt=end, offer__currency=currency, publisher__isnull=False
    )
    earning = Commission.objects.filter(currency=currency, status__in=["pending", "approved"]).filter(
        Q(conversion__created_at__gte=start, conversion__created_at__lt=end)
        | (~Q(kind="conversion") & Q(day__gte=start.date(), day__lt=end.date()))
    )
    money = earning.aggregate(r=Sum("revenue"), p=Sum("payout"), s=Sum("sale_amount"))
    expected = {
        "impressions": Impression.objects.filter(
            created_at__gte=start, created_at__lt=end, offer__currency=currency
        ).count(),
        "gross_clicks": clicks.count(),
        "unique_clicks": clicks.filter(is_unique=True).count(),
        "invalid_clicks": clicks.exclude(reason="").count(),
        "flagged_clicks": clicks.exclude(fraud_flags=[]).count(),
        "conv_flagged": conversions.filter(~Q(fraud_flags=[]) | Q(held_for_review=True)).count(),
        "revenue": money["r"] or Decimal(0),
        "payout": money["p"] or Decimal(0),
        "sale_amount": money["s"] or Decimal(0),
        "sales": earning.filter(sale_amount__isnull=False).count(),
    }
    # Invalid traffic by reason, counted in Python from each row's flags.
    rows = list(clicks.values_list("reason", "is_unique", "fraud_flags"))
    expected["paid_clicks"] = sum(1 for r, u, fl in rows if r == "" and u and not fl)
    expected["duplicate_clicks"] = sum(1 for _, u, _ in rows if not u)
    for column, flag in (
        ("bot_clicks", "bot_user_agent"),
        ("datacenter_clicks", "datacenter_ip"),
        ("flood_clicks", "click_flood"),
        ("invalidated_clicks", "invalidated"),
    ):
        expected[column] = sum(1 for _, _, fl in rows if flag in fl)
    views = Impression.objects.filter(created_at__gte=start, created_at__lt=end, offer__currency=currency)
    expected["invalid_impressions"] = sum(
        1 for u, fl in views.values_list("is_unique", "fraud_flags") if not u or fl
    )
    by_status = dict(conversions.values_list("status").annotate(n=Count("id")))
    for status in ("pending", "approved", "rejected", "reversed"):
        expected[f"conv_{status}"] = by_status.get(status, 0)
    return expected


def totals_of(report: Any) -> dict[str, dict[str, Any]]:
    return {t["currency"]: {k: t[k] for k in ADDITIVE} for t in report.totals}


@pytest.fixture
def traffic(shoes: Any, boots: Any, pixelpush: Any, rival: Any) -> list[Conversion]:
    offers, publishers = [shoes, boots], [pixelpush, rival]
    written = traffic_write(seed=7, offers=offers, publishers=publishers, start=DAY0, hours=72)
    # boots pays CPC: its valid clicks become daily lines, split over their sub ids (shares).
    traffic_reconcile(day_from=DAY0.date(), day_to=(DAY0 + timedelta(days=3)).date())
    assert Commission.objects.filter(kind="cpc").count() >= 4
    return written


def test_report_totals_equal_the_sums_of_raw_events(traffic: Any) -> None:
    rollup_rebuild(start=DAY0, end=DAY0 + timedelta(days=3))
    report = report_rows(actor=STAFF, start=DAY0.date(), end=date(2024, 3, 11), group_by=["day", "offer"])

    assert report.source == "daily"
    for currency in ("EUR", "USD"):
        assert totals_of(report)[currency] == raw_totals(currency, DAY0, DAY0 + timedelta(days=3))
    assert totals_of(report)["USD"]["gross_clicks"] > 0
    assert totals_of(report)["EUR"]["revenue"] > 0


@pytest.mark.parametrize(
    ("group_by", "tz"),
    [
        (["day"], "UTC"),
        (["hour"], "UTC"),
        (["day", "publisher"], "America/New_York"),
        (["offer", "goal"], "Europe/Berlin"),
        (["country", "device"], "UTC"),
        (["country"], "America/New_York"),
        (["day", "device"], "Europe/Berlin"),
        (["sub1", "day"], "Asia/Tokyo"),
    ],
)
def test_rollup_rows_equal_raw_rows_for_every_grouping(traffic: Any, group_by: list[str], tz: str) -> None:
    rollup_rebuild(start=DAY0 - timedelta(days=1), end=DAY0 + timedelta(days=4))
    kwargs = {
        "actor": STAFF,
        "start": date(2024, 3, 9),
        "end": date(2024, 3, 11),
        "tz": tz,
        "group_by": group_by,
    }

    from_rollups = report_rows(**kwargs)
    from_raw = report_rows(**kwargs, source="raw")

    assert from_rollups.source in ("daily", "hourly")
    assert from_raw.source == "raw"
    assert from_rollups.rows == from_raw.rows
    assert from_rollups.totals == from_raw.totals
    assert len(from_rollups.rows) > 1


@pytest.mark.parametrize(
    ("actor", "filters", "cube"),
    [
        (as_staff, {}, "tracking_dailygeostat"),
        (as_advertiser, {}, "tracking_dailygeostat"),  # the advertiser scope is in the geo key
        (as_publisher, {}, "tracking_dailystat"),  # a publisher's rows, through its index
        (as_staff, {"sub1": "fb"}, "tracking_dailystat"),
    ],
    ids=["staff", "advertiser", "publisher", "sub1-filter"],
)
def test_geo_reports_read_the_smallest_cube_that_has_their_dimensions(
    traffic: Any, shoes: Any, pixelpush: Any, actor: Any, filters: dict[str, str], cube: str
) -> None:
    rollup_rebuild(start=DAY0, end=DAY0 + timedelta(days=3))
    kwargs = {
        "actor": actor(shoes, pixelpush),
        "start": DAY0.date(),
        "end": date(2024, 3, 11),
        "group_by": ["country", "device"],
    }

    with CaptureQueriesContext(connection) as queries:
        from_rollups = report_rows(**kwargs, filters=filters)
    from_raw = report_rows(**kwargs, filters=filters, source="raw")

    assert any(cube in q["sql"] for q in queries.captured_queries)
    assert from_rollups.rows
    assert from_rollups.rows == from_raw.rows
    assert from_rollups.totals == from_raw.totals


def test_rebuilding_twice_writes_the_same_rows(traffic: Any) -> None:
    def snapshot() -> list[tuple[Any, ...]]:
        return sorted(
            HourlyStat.objects.values_list(
                "hour",
                "offer_id",
                "publisher_id",
                "goal_id",
                "country",
                "device",
                "sub1",
                "gross_clicks",
                "revenue",
            ),
            key=str,
        )

    rollup_rebuild(start=DAY0, end=DAY0 + timedelta(days=3))
    first, daily = snapshot(), DailyStat.objects.count()
    rollup_rebuild(start=DAY0 + timedelta(hours=5, minutes=30), end=DAY0 + timedelta(days=2, hours=1))

    assert snapshot() == first
    assert DailyStat.objects.count() == daily > 0


def test_a_reversal_weeks_later_is_reaggregated_through_the_dirty_hour_trigger(traffic: Any) -> None:
    now = DAY0 + timedelta(days=40)
    rollup_rebuild(start=DAY0, end=DAY0 + timedelta(days=3))
    rollups_refresh(now=now)
    approved = Conversion.objects.filter(status="approved", commission__isnull=False).first()
    assert approved is not None
    before = totals_of(report_rows(actor=STAFF, start=DAY0.date(), end=date(2024, 3, 11)))

    Conversion.objects.filter(pk=approved.pk).update(status="reversed")
    Commission.objects.filter(conversion=approved).update(status="reversed")
    assert ReportDirtyHour.objects.filter(
        hour=approved.created_at.replace(minute=0, second=0, microsecond=0)
    ).exists()
    rollups_refresh(now=now + timedelta(minutes=5))

    after = totals_of(report_rows(actor=STAFF, start=DAY0.date(), end=date(2024, 3, 11)))
    currency = approved.offer.currency
    assert after[currency]["conv_approved"] == before[currency]["conv_approved"] - 1
    assert after[currency]["conv_reversed"] == before[currency]["conv_reversed"] + 1
    assert after[currency]["revenue"] == before[currency]["revenue"] - approved.commission.revenue
    assert after[currency] == raw_totals(currency, DAY0, DAY0 + timedelta(days=3))
    assert not ReportDirtyHour.objects.exists()


def test_late_clicks_and_new_conversions_land_in_their_own_hour(shoes: Any, pixelpush: Any) -> None:
    now = datetime(2024, 5, 2, 10, 20, tzinfo=UTC)
    rollups_refresh(now=now)
    two_hours_ago = now - timedelta(hours=2)
    yesterday = now - timedelta(days=1, hours=3)
    for at in (two_hours_ago, yesterday, now):
        Click.objects.create(
            id=new_click_id(int(at.timestamp() * 1000)), created_at=at, offer=shoes, publisher=pixelpush
        )

    # Same day: the refresh adds what is new since the watermark. The click two hours late is
    # past the late-check window (test_rollups_incremental.py has one inside it).
    rollups_refresh(now=now + timedelta(minutes=5))
    report = report_rows(actor=STAFF, start=yesterday.date(), end=now.date(), group_by=["day"])
    assert [(r["day"], r["gross_clicks"]) for r in report.rows] == [(now.date(), 1)]

    # After midnight the nightly pass re-aggregates the two previous days.
    rollups_refresh(now=now + timedelta(days=1))
    report = report_rows(actor=STAFF, start=yesterday.date(), end=now.date(), group_by=["day"])
    assert [(r["day"], r["gross_clicks"]) for r in report.rows] == [(yesterday.date(), 1), (now.date(), 2)]


def test_a_conversion_marks_its_hour_dirty_on_both_databases(shoes: Any, pixelpush: Any) -> None:
    at = datetime(2023, 1, 5, 13, 45, tzinfo=UTC)
    conversion = Conversion.objects.create(
        created_at=at, offer=shoes, publisher=pixelpush, goal=shoes.goals.first()
    )
    conversion.fraud_flags = []
    conversion.save()  # nothing report-relevant changed: no new mark

    assert list(ReportDirtyHour.objects.values_list("hour", flat=True)) == [
        datetime(2023, 1, 5, 13, tzinfo=UTC)
    ]


def test_reconciling_a_batch_marks_each_hour_its_commissions_touch(shoes: Any, pixelpush: Any) -> None:
    from payouts.reconcile import conversions_reconcile

    hours = [datetime(2023, 2, 1, 9, tzinfo=UTC), datetime(2023, 2, 1, 17, tzinfo=UTC)]
    for n, hour in enumerate(hours * 3):
        Conversion.objects.create(
            created_at=hour + timedelta(minutes=n),
            offer=shoes,
            publisher=pixelpush,
            goal=shoes.goals.get(code="lead"),
            txn_id=f"T{n}",
        )
    ReportDirtyHour.objects.all().delete()  # the conversions' own marks

    assert conversions_reconcile().created == 6

    assert sorted(set(ReportDirtyHour.objects.values_list("hour", flat=True))) == hours
    line = cpc_line(offer=shoes, publisher=pixelpush, goal=shoes.goals.get(code="lead"), day=DAY0, clicks=3)
    ReportDirtyHour.objects.all().delete()
    Commission.objects.filter(pk=line.pk).delete()  # a CPC line's hour is its day's midnight
    assert list(ReportDirtyHour.objects.values_list("hour", flat=True)) == [DAY0]
