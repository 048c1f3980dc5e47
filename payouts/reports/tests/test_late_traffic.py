"""A click that reaches its table after the rollups passed its time (it waited in the spool, or
in a consumer backlog) is in reports after the next refresh, not at the hour's late check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from affiliates.roles import Actor, Role
from payouts.reports.selectors import report_rows
from payouts.reports.services import rollups_refresh
from tracking.clickpath import lines, writer
from tracking.ids import new_click_hex
from tracking.models import Click
from tracking.models.reports import ReportDirtyHour

pytestmark = pytest.mark.django_db
STAFF = Actor(role=Role.STAFF, user_id=1)


def _record(offer: Any, publisher: Any, at: datetime, kind: str = "c") -> dict[str, Any]:
    click_id, _ = new_click_hex()
    ms = int(at.timestamp() * 1000)
    return {
        "kind": kind, "id": click_id, "created_at": ms, "offer_id": offer.pk, "publisher_id": publisher.pk,
        "ip": "203.0.113.9", "user_agent": "Mozilla/5.0", "country": "DE", "device": "mobile", "os": "",
        "sub1": "late", "sub2": "", "sub3": "", "sub4": "", "sub5": "", "source": "", "referer": "",
        "reason": "", "fraud_flags": [], "fallback_if_refused": None,
    }  # fmt: skip


def _clicks_today(now: datetime) -> int:
    report = report_rows(actor=STAFF, start=now.date() - timedelta(days=1), end=now.date())
    return sum(r["gross_clicks"] for r in report.rows)


def test_a_spooled_click_replayed_after_the_watermark_is_in_the_next_refresh(
    shoes: Any, pixelpush: Any
) -> None:
    now = timezone.now()
    rollups_refresh(now=now)  # the watermark is now: the click below is behind it
    clicked_at = now - timedelta(minutes=20)

    writer.records_write([_record(shoes, pixelpush, clicked_at)])  # the spool's replay path

    hour = clicked_at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    assert list(ReportDirtyHour.objects.values_list("hour", flat=True)) == [hour]
    rollups_refresh(now=now + timedelta(seconds=30))  # the next refresh, long before the late check
    assert _clicks_today(now) == 1
    assert not ReportDirtyHour.objects.exists()


def test_stream_lines_behind_the_watermark_mark_only_their_own_hours(shoes: Any, pixelpush: Any) -> None:
    now = timezone.now()
    old, older = now - timedelta(hours=3), now - timedelta(hours=26)
    batch = [
        f"{lines.click_line(_record(shoes, pixelpush, at))}\t 1 0".encode() for at in (old, old, older, now)
    ]
    with override_settings(REPORTS_TRAFFIC_LAG_SECONDS=60):
        rollups_refresh(now=now)
        writer.lines_write(batch)

    assert Click.objects.count() == 4
    marked = sorted(ReportDirtyHour.objects.values_list("hour", flat=True))
    assert marked == [at.astimezone(UTC).replace(minute=0, second=0, microsecond=0) for at in (older, old)]


@override_settings(REPORTS_TRAFFIC_LAG_SECONDS=60)
def test_a_fresh_batch_marks_nothing(shoes: Any, pixelpush: Any) -> None:
    now = timezone.now()
    batch = [f"{lines.click_line(_record(shoes, pixelpush, now))}\t 1 0".encode() for _ in range(3)]
    writer.lines_write(batch)
    writer.records_write([_record(shoes, pixelpush, now - timedelta(seconds=5))])

    assert Click.objects.count() == 4
    assert not ReportDirtyHour.objects.exists()


def test_rollups_are_refreshed_often_enough_for_a_late_click_to_show_within_a_minute() -> None:
    schedule = settings.CELERY_BEAT_SCHEDULE["reports-rollup-refresh"]["schedule"]
    assert schedule <= 30
