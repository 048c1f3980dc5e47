from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from affiliates.models import OfferAccess
from affiliates.roles import Actor, Role
from affiliates.tests.factories import OfferAccessFactory
from payouts.models import Commission
from tracking.demo_traffic import demo_traffic_generate
from tracking.models import Click, Conversion, ConversionEvent, Impression
from tracking.reports.selectors import report_rows

NOW = datetime(2024, 7, 20, 15, 30, tzinfo=UTC)
STAFF = Actor(role=Role.STAFF, user_id=1)


def test_demo_traffic_writes_every_status_and_builds_matching_rollups(
    shoes_link: Any, boots: Any, rival: Any
) -> None:
    OfferAccessFactory(offer=boots, publisher=rival, status=OfferAccess.Status.APPROVED)

    result = demo_traffic_generate(days=30, clicks_per_link_per_day=60, now=NOW)

    assert result.days_written == 30
    assert Click.objects.count() == result.clicks > 1000
    assert Impression.objects.count() > Click.objects.count()
    assert set(Conversion.objects.values_list("status", flat=True)) == {
        "pending",
        "approved",
        "rejected",
        "reversed",
    }
    assert ConversionEvent.objects.filter(to_status="reversed", reason="refund").exists()
    assert not Commission.objects.filter(conversion__status="rejected").exists()
    assert not Click.objects.filter(created_at__gt=NOW).exists()
    report = report_rows(actor=STAFF, start=datetime(2024, 6, 21).date(), end=NOW.date(), group_by=["day"])
    assert sum(t["gross_clicks"] for t in report.totals) == Click.objects.count()
    assert (
        sum(t["conv_reversed"] for t in report.totals) == Conversion.objects.filter(status="reversed").count()
    )
    assert sum(t["revenue"] for t in report.totals) > 0


def test_running_demo_traffic_twice_adds_nothing(shoes_link: Any) -> None:
    first = demo_traffic_generate(days=3, clicks_per_link_per_day=40, now=NOW)
    counts = (Click.objects.count(), Conversion.objects.count(), Commission.objects.count())

    second = demo_traffic_generate(days=3, clicks_per_link_per_day=40, now=NOW)

    assert first.days_written == 3
    assert second.days_written == 0
    assert second.days_skipped == 3
    assert (Click.objects.count(), Conversion.objects.count(), Commission.objects.count()) == counts
