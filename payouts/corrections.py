"""Correcting the ledger: a mistake is undone by a reversing transaction, never by an edit.

The database refuses UPDATE, DELETE and TRUNCATE of ledger rows (``payouts.ledger_guard``), so
the only way to take a posting back is to post its mirror: the same accounts, opposite amounts,
linked to the original through ``Transaction.reverses``. Both stay in the ledger, and in every
statement, as the history of what happened.

Postings that belong to a commission or a payout are not reversed here: their owner's state and
the ledger must move together, or the next change would post from a position the ledger no
longer holds. Those are corrected through their owner (a commission's status or amount, a
payout's failure), which posts the reversing entries itself.
"""

from __future__ import annotations

from django.db import transaction
from rest_framework import status

from affiliates.core.errors import DomainError
from affiliates.roles import Act, Actor, role_check
from payouts.ledger import Line, ledger_post
from payouts.models import Transaction
from payouts.services import actor_label


def reversal_key(transaction_id: int) -> str:
    return f"reversal-of:{transaction_id}"


def _reversible(*, transaction_id: int) -> Transaction:
    original = Transaction.objects.filter(pk=transaction_id).first()
    if original is None:
        raise DomainError(
            f"No ledger transaction #{transaction_id}.",
            code="not_found",
            status_code=status.HTTP_404_NOT_FOUND,
        )
    if original.commission_id is not None:
        raise DomainError(
            f"Transaction #{original.pk} is a posting of commission #{original.commission_id}: correct "
            "the commission instead (reject, reverse or adjust it), which posts the reversing entries "
            "and keeps the commission and the ledger in step.",
            code="commission_posting",
        )
    if original.payout_id is not None:
        raise DomainError(
            f"Transaction #{original.pk} is a posting of payout #{original.payout_id}: mark the payout "
            "failed instead, which posts the reversing entries and re-opens the balance.",
            code="payout_posting",
        )
    return original


@transaction.atomic
def ledger_transaction_reverse(*, transaction_id: int, reason: str, actor: Actor) -> tuple[Transaction, bool]:
    """Post the mirror of a ledger transaction. Returns ``(reversal, created)``.

    Idempotent: a transaction is reversed at most once (the unique key ``reversal-of:<id>`` and
    the partial unique index on ``reverses``); asking again returns the first reversal with
    ``created`` False. A reversal can itself be reversed, which re-posts the original amounts.
    """
    if not actor.is_staff:
        raise DomainError(
            "Only network staff correct the ledger.", code="forbidden", status_code=status.HTTP_403_FORBIDDEN
        )
    role_check(actor, Act.MANAGE_PAYOUTS)  # finance and admins
    reason = reason.strip()
    if not reason:
        raise DomainError("A reversal needs a reason.", code="reason_required")
    original = _reversible(transaction_id=transaction_id)
    lines = [Line(entry.account, -entry.amount) for entry in original.entries.select_related("account")]
    memo = f"Reverses #{original.pk} ({actor_label(actor)}): {reason}"
    reversal = ledger_post(
        kind=Transaction.Kind.REVERSAL,
        key=reversal_key(original.pk),
        lines=lines,
        reverses=original,
        memo=memo[:255],
    )
    if reversal is None:
        return Transaction.objects.get(key=reversal_key(original.pk)), False
    return reversal, True
