"""Clicks and impressions that reach their table after the report rollups passed their time.

The rollup refresh (payouts/reports/services.py) adds each new span of time once, up to its
watermark, which trails the clock by REPORTS_TRAFFIC_LAG_SECONDS. A row written later than that
with an older time (a click that waited in the spool while Redis and PostgreSQL were down, a
consumer backlog, the database fallback during an outage) is behind the watermark: without a
mark, reports would miss it until the hour's late check, REPORTS_LATE_CHECK_SECONDS after the
hour. So the writer marks the hours of such rows dirty (``ReportDirtyHour``, the same marks the
conversion triggers write), in the transaction that writes them, and the next refresh re-rolls
those hours from raw events.

Cheap on the hot path: the common batch is seconds old, and one comparison of its oldest time
decides that nothing is late; only a late batch pays for a mark per hour it touches.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.utils import timezone

from tracking.models.reports import ReportDirtyHour

# How long a writer may take between this check and its commit. A row younger than the lag
# minus this margin at the check cannot be behind a watermark that a refresh sets before the
# commit; an older one is marked (a mark too many only re-rolls an hour).
MARGIN = timedelta(seconds=10)


def late_before(now: datetime | None = None) -> datetime:
    """Rows older than this may be behind the rollups' watermark by the time they commit."""
    now = now or timezone.now()
    return now - timedelta(seconds=settings.REPORTS_TRAFFIC_LAG_SECONDS) + MARGIN


def _hour(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def late_hours_mark(times: Iterable[datetime]) -> int:
    """Mark the hours of the late ones among these row times dirty; returns the marks written.
    Call it inside the transaction that writes the rows."""
    cutoff = late_before()
    hours = {_hour(at) for at in times if at < cutoff}
    ReportDirtyHour.objects.bulk_create(ReportDirtyHour(hour=hour) for hour in sorted(hours))
    return len(hours)


def _line_time(line: bytes) -> bytes:
    # A stream line is "c|i <TAB> id <TAB> YYYY-MM-DD HH:MM:SS.mmm+00 <TAB> ..." (lines.py).
    # (late_lines_mark slices it where the hot path's 32-digit ids put it: at 35.)
    return line.split(b"\t", 3)[2]


def late_lines_mark(stream_lines: list[bytes]) -> int:
    """``late_hours_mark`` for stream lines, reading only their time column. The text is UTC
    and fixed-width, so comparing it as bytes orders it as time: one ``min`` rules out the
    common batch."""
    if not stream_lines:
        return 0
    cutoff = late_before().strftime("%Y-%m-%d %H:%M:%S").encode()
    stamps = [line[35:61] if line[34:35] == b"\t" else _line_time(line) for line in stream_lines]
    if min(stamps) >= cutoff:
        return 0
    late = {s[:13] for s in stamps if s < cutoff}  # "YYYY-MM-DD HH"
    hours = [datetime.strptime(h.decode(), "%Y-%m-%d %H").replace(tzinfo=UTC) for h in late]
    return late_hours_mark(hours)
