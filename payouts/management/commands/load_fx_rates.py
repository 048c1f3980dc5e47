"""``python manage.py load_fx_rates rates.csv``: columns base, quote, rate, valid_from (ISO 8601).

All or nothing: every bad line is reported and nothing is loaded if one is bad. Loading the
same file twice adds nothing; a different rate for an existing (base, quote, valid_from) is an
error, because commissions may already have been priced with the old one.
"""

from __future__ import annotations

import csv
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from payouts.fx import fx_rows_parse, fx_rows_save


class Command(BaseCommand):
    help = "Load FX rates from a CSV file (base,quote,rate,valid_from)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            with open(opts["path"], newline="", encoding="utf-8") as fh:
                rows, errors = fx_rows_parse(list(csv.DictReader(fh)))
        except OSError as exc:
            raise CommandError(str(exc)) from exc
        added = 0
        if not errors:
            with transaction.atomic():
                added, errors = fx_rows_save(rows)
        if errors:
            for line, message in errors:
                self.stderr.write(f"line {line}: {message}")
            raise CommandError(f"{len(errors)} bad line(s); nothing loaded.")
        self.stdout.write(f"{added} rate(s) added, {len(rows) - added} already present.")
