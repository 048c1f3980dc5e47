"""``manage.py traffic_invalidate --clicks ID[,ID...] --impressions ID[,...] --reason "..." --by <staff>``.

Judges clicks and impressions invalid after they were recorded (a fraud review, an advertiser's
dispute upheld): they earn nothing from then on, and the CPC/CPM lines of their days shrink at
once, the ledger carrying the decrease (payouts.traffic.traffic_invalidate). Idempotent.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from payouts.traffic import traffic_invalidate
from tracking.ids import click_id_parse


def _ids(raw: str, what: str) -> list[uuid.UUID]:
    out = []
    for part in filter(None, (p.strip() for p in raw.split(","))):
        parsed = click_id_parse(part)
        if parsed is None:
            raise CommandError(f"{part!r} is not a {what} id.")
        out.append(parsed)
    return out


class Command(BaseCommand):
    help = "Mark clicks and impressions invalid; their CPC/CPM daily lines shrink. Idempotent."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--clicks", default="", help="Comma-separated click ids.")
        parser.add_argument("--impressions", default="", help="Comma-separated impression ids.")
        parser.add_argument("--reason", required=True, help="Why; kept in the decrease's memo.")
        parser.add_argument("--by", required=True, help="Username of the staff member deciding.")

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["by"], is_staff=True).first()
        if user is None:
            raise CommandError(f"No staff user {options['by']!r}.")
        stats = traffic_invalidate(
            click_ids=_ids(options["clicks"], "click"),
            impression_ids=_ids(options["impressions"], "impression"),
            reason=options["reason"],
            actor=user.get_username(),
        )
        self.stdout.write(f"daily lines: {stats.get('shrunk', 0)} shrunk, {stats.get('grown', 0)} grown")
