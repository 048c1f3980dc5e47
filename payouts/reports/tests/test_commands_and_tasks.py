from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from payouts.reports.tasks import reports_rollup_refresh
from tracking.ids import new_click_id
from tracking.models import Click
from tracking.models.reports import DailyStat, ReportState


def test_the_rebuild_command_backfills_a_range_of_days(shoes: Any, pixelpush: Any) -> None:
    at = datetime(2024, 2, 10, 8, tzinfo=UTC)
    Click.objects.create(
        id=new_click_id(int(at.timestamp() * 1000)), created_at=at, offer=shoes, publisher=pixelpush
    )
    out = io.StringIO()

    call_command("reports_rebuild", "--start", "2024-02-09", "--end", "2024-02-11", stdout=out)

    assert "rebuilt 72 hours" in out.getvalue()
    assert DailyStat.objects.get().gross_clicks == 1


def test_the_rebuild_command_refuses_a_bad_date() -> None:
    with pytest.raises(CommandError):
        call_command("reports_rebuild", "--start", "yesterday")


def test_the_refresh_task_is_scheduled_and_moves_the_watermark(db: Any) -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["reports-rollup-refresh"]
    assert entry["task"] == reports_rollup_refresh.name

    result = reports_rollup_refresh.delay().get()

    assert result["hours_rebuilt"] >= settings.REPORTS_LATE_HOURS
    state = ReportState.objects.get()
    assert state.rolled_up_to is not None
    assert state.rolled_up_to > datetime.now(UTC) - timedelta(hours=1)
