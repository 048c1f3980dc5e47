"""python manage.py seed_demo: build the demo network with a month of activity, idempotently.

Five steps, each through the product's own services and each idempotent:

1. the network: advertisers, offers, publishers, accesses, logins (affiliates.demo);
2. raw traffic: clicks, impressions and conversions of the last 30 days, as tracking records
   them (tracking.demo);
3. money: reconciliation, advertisers' and staff's decisions, approvals after the hold, last
   month's payout run paid, a refund after payout (payouts.demo), replayed day by day;
4. report rollups rebuilt over the window (payouts.reports), when steps 2-3 changed anything;
5. last month's invoices, credit notes and statements issued (payouts.documents), as the monthly
   job does, so the document pages have something to show.

The window reaches back at least to the middle of last month, so that month's payout run has
something to pay whatever today's date. The clock is the current hour (UTC), so a second run
in the same hour changes nothing at all; a later one only does what became due meanwhile.
"""

from __future__ import annotations

import logging
import time
from datetime import date, datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from affiliates import demo
from affiliates.core.audit import audit_system
from affiliates.core.errors import DomainError
from payouts.demo import demo_activity_build, demo_money_summary
from payouts.documents import documents_issue_month
from payouts.reports.services import floor_hour
from tracking.demo import DEFAULT_CLICKS

DEFAULT_DAYS = 30
LAST_MONTH_DAYS = 14  # at least this many days of last month, for its payout run


def demo_window_days(today: date) -> int:
    """30 days ending today, stretched back to cover the last two weeks of last month."""
    last_month_end = today.replace(day=1) - timedelta(days=1)
    first = min(
        today - timedelta(days=DEFAULT_DAYS - 1), last_month_end - timedelta(days=LAST_MONTH_DAYS - 1)
    )
    return (today - first).days + 1


class Command(BaseCommand):
    help = "Create the demo network with 30 days of traffic, commissions and a paid payout run. Idempotent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help="Days of traffic ending today; 0: the network only. Default: 30, stretched back "
            "to cover the last two weeks of last month.",
        )
        parser.add_argument(
            "--clicks-per-link", type=int, default=DEFAULT_CLICKS, help="Average clicks per link per day."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with audit_system("seed_demo"):  # the audit log names the job, with no actor
            self._seed(**options)

    def _seed(self, **options: Any) -> None:
        started = time.monotonic()
        network = demo.seed()
        verb = f"created {network.created} rows" if network.created else "already complete, nothing changed"
        self.stdout.write(f"Demo network {verb}.")
        now = floor_hour(timezone.now())
        days = options["days"] if options["days"] is not None else demo_window_days(now.date())
        if days > 0:
            # The services log each commission event at INFO; this command reports totals instead.
            logging.disable(logging.INFO)
            try:
                self._activity(network, now, days, options["clicks_per_link"])
            finally:
                logging.disable(logging.NOTSET)
            self._documents(now.date())
        self.stdout.write(f"Done in {time.monotonic() - started:.1f} s.")
        self.stdout.write(demo.credentials_text(network))

    def _documents(self, today: date) -> None:
        """Last month's invoices, credit notes and statements, as the monthly job issues them
        (idempotent: a party already issued gets nothing new), so the document pages show some."""
        period = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
        try:
            issued = documents_issue_month(period=period)
        except DomainError as exc:  # production settings without the issuer's details
            self.stdout.write(f"Documents for {period:%Y-%m} not issued: {exc.message}")
            return
        self.stdout.write(
            f"Documents for {period:%Y-%m}: {issued.invoices} invoices, {issued.credit_notes} credit notes, "
            f"{issued.statements} statements issued."
        )

    def _activity(self, network: demo.DemoNetwork, now: datetime, days: int, clicks_per_link: int) -> None:
        activity = demo_activity_build(
            days=days,
            staff_user=network.users["staff"],
            clicks_per_link_per_day=clicks_per_link,
            now=now,
            offers=network.offers,
        )
        traffic = activity.traffic
        self.stdout.write(
            f"Traffic {traffic.first_day}..{traffic.last_day}: {traffic.days_written} days written "
            f"({traffic.clicks} clicks, {traffic.impressions} impressions, {traffic.conversions} "
            f"conversions), {traffic.days_skipped} already there."
        )
        self.stdout.write(f"Money: {demo_money_summary(activity.money)}.")
        if activity.rollup_hours:
            self.stdout.write(f"Report rollups rebuilt: {activity.rollup_hours} hours.")
        else:
            self.stdout.write("Traffic and money already complete, nothing changed.")
