"""Rebuild report rollups for a range of UTC days from raw events (backfills, repairs).

python manage.py reports_rebuild --start 2024-05-01 --end 2024-05-31
python manage.py reports_rebuild --refresh      # one incremental pass, as Celery beat runs it
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from payouts.reports.services import rollups_rebuild_all, rollups_refresh


def _day(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise CommandError(f"{raw!r} is not a YYYY-MM-DD date.") from exc


class Command(BaseCommand):
    help = "Rebuild report rollups for UTC days START..END (inclusive), or run one refresh."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--start", type=_day, help="First UTC day (YYYY-MM-DD).")
        parser.add_argument("--end", type=_day, help="Last UTC day, inclusive (default: --start).")
        parser.add_argument("--refresh", action="store_true", help="Run one incremental refresh pass.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["refresh"]:
            result = rollups_refresh()
            self.stdout.write(
                f"refreshed {result.hours_rebuilt} hours, cleared {result.dirty_marks_cleared} marks"
            )
            return
        start: date | None = options["start"]
        if start is None:
            raise CommandError("Give --start (and optionally --end), or --refresh.")
        end: date = options["end"] or start
        if end < start:
            raise CommandError("--end is before --start.")
        hours = rollups_rebuild_all(
            start=datetime.combine(start, time.min, tzinfo=UTC),
            end=datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC),
        )
        self.stdout.write(f"rebuilt {hours} hours ({start.isoformat()}..{end.isoformat()})")
