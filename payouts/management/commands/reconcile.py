"""``python manage.py reconcile``: what the periodic reconciliation does, now, in this process."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from payouts import reconcile, services, traffic


class Command(BaseCommand):
    help = "Turn conversions, clicks and impressions into commissions and ledger entries; approve due ones."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--after-id", type=int, default=0, help="Only conversions with a larger id.")
        parser.add_argument("--until-id", type=int, default=None, help="Only conversions up to this id.")
        parser.add_argument("--batch-size", type=int, default=reconcile.BATCH_SIZE)
        parser.add_argument("--days", type=int, default=2, help="CPC/CPM days to recount, ending today.")
        parser.add_argument("--no-approve", action="store_true", help="Skip approving commissions due.")

    def handle(self, *args: Any, **opts: Any) -> None:
        result = reconcile.conversions_reconcile(
            after_id=opts["after_id"], until_id=opts["until_id"], batch_size=opts["batch_size"]
        )
        self.stdout.write(
            f"conversions: {result.created} commissions created, {result.changed} changed, "
            f"{result.skipped} waiting for an FX rate"
        )
        today: date = timezone.now().date()
        lines = traffic.traffic_reconcile(
            day_from=today - timedelta(days=max(opts["days"], 1) - 1), day_to=today
        )
        self.stdout.write(
            f"daily lines: {lines.get('created', 0)} created, {lines.get('grown', 0)} grown, "
            f"{lines.get('shrunk', 0)} shrunk"
        )
        if not opts["no_approve"]:
            self.stdout.write(f"approved after hold: {services.commissions_approve_due()}")
