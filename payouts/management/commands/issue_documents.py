"""``python manage.py issue_documents --period YYYY-MM``: issue that month's invoices, credit
notes and statements (what the monthly beat job does). Running it again issues nothing new."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from affiliates.core.errors import DomainError
from payouts.documents import documents_issue_month
from payouts.periods import period_label, period_of, period_parse, period_previous


class Command(BaseCommand):
    help = "Issue a month's invoices, credit notes and statements (default: last month)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--period", help="YYYY-MM; default: the previous month (UTC).")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            period = (
                period_parse(options["period"])
                if options["period"]
                else period_previous(period_of(timezone.now()))
            )
            result = documents_issue_month(period=period)
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        self.stdout.write(
            f"{period_label(period)}: {result.invoices} invoices, {result.credit_notes} credit notes, "
            f"{result.statements} statements issued; {result.nothing_to_issue} parties had nothing new."
        )
        for refusal in result.refused:
            self.stderr.write(f"not issued: {refusal}")
