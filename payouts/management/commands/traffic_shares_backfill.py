"""``manage.py traffic_shares_backfill [--start YYYY-MM-DD] [--end YYYY-MM-DD]``.

Splits the CPC/CPM daily lines written before migration payouts 0019 of the old migration
history (a database made by payouts 0001_initial has none) over the country, device and sub1-sub5
of their valid traffic, so reports grouped by those show old money where it was earned, not on
"(none)" (payouts.traffic_backfill). Run once after upgrading; idempotent. The
days it splits are marked for the report rollups, which the next refresh re-aggregates.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from payouts.traffic_backfill import shares_backfill


def _day(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise CommandError(f"{raw!r} is not a YYYY-MM-DD date.") from exc


class Command(BaseCommand):
    help = "Split the daily CPC/CPM lines written before shares existed over their traffic. Idempotent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--start", type=_day, help="First UTC day (default: the first line).")
        parser.add_argument("--end", type=_day, help="Last UTC day, inclusive (default: the last line).")

    def handle(self, *args: Any, **options: Any) -> None:
        result = shares_backfill(day_from=options["start"], day_to=options["end"])
        self.stdout.write(
            f"daily lines: {result.split} split over {len(result.days)} day(s), "
            f"{result.left} left unsplit (their traffic no longer matches them)"
        )
