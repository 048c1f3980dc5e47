"""``python manage.py ledger_reverse <transaction id> --reason "..." --by <staff username>``.

Posts the mirror of a ledger transaction: how an operator corrects a mistake, since the
database refuses to edit or delete ledger rows. Running it again reverses nothing more.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from affiliates.core.errors import DomainError
from affiliates.roles import actor_for
from payouts.corrections import ledger_transaction_reverse


class Command(BaseCommand):
    help = "Reverse a ledger transaction: post its mirror entries. Idempotent."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("transaction_id", type=int, help="Id of the ledger transaction to reverse.")
        parser.add_argument("--reason", required=True, help="Why; kept in the reversal's memo.")
        parser.add_argument("--by", required=True, help="Username of the staff member correcting it.")

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["by"]).first()
        if user is None:
            raise CommandError(f"No user {options['by']!r}.")
        try:
            reversal, created = ledger_transaction_reverse(
                transaction_id=options["transaction_id"], reason=options["reason"], actor=actor_for(user)
            )
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        entries = ", ".join(f"{e.account} {e.amount:+}" for e in reversal.entries.select_related("account"))
        verb = "Reversed" if created else "Already reversed"
        self.stdout.write(f"{verb}: transaction #{reversal.pk} reverses #{reversal.reverses_id} ({entries})")
