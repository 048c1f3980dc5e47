"""Recompute the customer-value tables now, as the nightly Celery job does.

python manage.py customer_value_refresh          # the bounded window (last 180 days' cohorts)
python manage.py customer_value_refresh --full   # every conversion (after a backfill or repair)
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from payouts.reports.customers.services import customer_value_refresh


class Command(BaseCommand):
    help = "Recompute customers, cohort rollups and the new/returning mix (customer value)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--full", action="store_true", help="Read every conversion, not the window.")

    def handle(self, *args: Any, **options: Any) -> None:
        result = customer_value_refresh(full=options["full"])
        since = result.window_start.isoformat() if result.window_start else "the beginning"
        self.stdout.write(
            f"customers since {since}: {result.customers}; cohort rows {result.cohort_rows}, "
            f"mix rows {result.mix_rows}"
        )
