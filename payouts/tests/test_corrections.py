"""An operator corrects the ledger with a reversing transaction (payouts.corrections)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from affiliates.core.errors import DomainError
from affiliates.roles import actor_for
from payouts.corrections import ledger_transaction_reverse
from payouts.ledger import Line, account_get, ledger_post
from payouts.models import Account, Entry, Transaction
from payouts.reconcile import conversions_reconcile
from payouts.tests.helpers import convert, every_transaction_balances


def account_balance(*, account: Account) -> Decimal:
    return sum((e.amount for e in Entry.objects.filter(account=account)), Decimal("0"))


pytestmark = pytest.mark.django_db
K = Account.Kind


@pytest.fixture
def bonus(pixelpush: Any) -> Transaction:
    """A manual posting made by mistake: a 25.00 bonus owed to pixelpush, paid from margin."""
    payable = account_get(kind=K.PUBLISHER_PAYABLE, currency="USD", publisher_id=pixelpush.pk)
    margin = account_get(kind=K.NETWORK_MARGIN, currency="USD")
    txn = ledger_post(
        kind=Transaction.Kind.ADJUSTMENT,
        key="bonus:2026-11",
        lines=[Line(payable, Decimal("-25.00")), Line(margin, Decimal("25.00"))],
        memo="November bonus",
    )
    assert txn is not None
    return txn


def test_a_reversal_posts_the_mirror_entries_and_balances(bonus, nadia):
    reversal, created = ledger_transaction_reverse(
        transaction_id=bonus.pk, reason="bonus was for rival", actor=actor_for(nadia)
    )

    assert created
    assert reversal.reverses == bonus
    assert reversal.kind == Transaction.Kind.REVERSAL
    assert "bonus was for rival" in reversal.memo
    assert f"staff:{nadia.pk}" in reversal.memo
    mirrored = sorted((e.account_id, e.amount) for e in reversal.entries.all())
    assert mirrored == sorted((e.account_id, -e.amount) for e in bonus.entries.all())
    for entry in bonus.entries.all():
        assert account_balance(account=entry.account) == 0
    assert every_transaction_balances()


def test_reversing_twice_returns_the_first_reversal(bonus, nadia):
    first, _ = ledger_transaction_reverse(transaction_id=bonus.pk, reason="mistake", actor=actor_for(nadia))
    again, created = ledger_transaction_reverse(
        transaction_id=bonus.pk, reason="again", actor=actor_for(nadia)
    )

    assert (again, created) == (first, False)
    assert Transaction.objects.filter(reverses=bonus).count() == 1


def test_the_database_refuses_a_second_reversal_of_the_same_transaction(bonus, nadia):
    ledger_transaction_reverse(transaction_id=bonus.pk, reason="mistake", actor=actor_for(nadia))

    with pytest.raises(IntegrityError), transaction.atomic():
        Transaction.objects.create(kind=Transaction.Kind.REVERSAL, key="another-key", reverses=bonus)


def test_a_reversal_can_itself_be_reversed(bonus, nadia):
    reversal, _ = ledger_transaction_reverse(
        transaction_id=bonus.pk, reason="mistake", actor=actor_for(nadia)
    )

    undo, created = ledger_transaction_reverse(
        transaction_id=reversal.pk, reason="the bonus was right", actor=actor_for(nadia)
    )

    assert created
    assert undo.reverses == reversal
    assert sorted(e.amount for e in undo.entries.all()) == [Decimal("-25.00"), Decimal("25.00")]
    payable = bonus.entries.get(amount__lt=0).account
    assert account_balance(account=payable) == Decimal("-25.00")


def test_a_commission_posting_is_corrected_through_its_commission_not_reversed(shoes, pixelpush, nadia):
    convert(shoes, pixelpush)
    conversions_reconcile()
    posting = Transaction.objects.get(commission__isnull=False)

    with pytest.raises(DomainError) as refused:
        ledger_transaction_reverse(transaction_id=posting.pk, reason="x", actor=actor_for(nadia))

    assert refused.value.code == "commission_posting"
    assert not Transaction.objects.filter(reverses=posting).exists()


@pytest.mark.parametrize(
    ("who", "reason", "code"),
    [("pia", "mistake", "forbidden"), ("nadia", "  ", "reason_required")],
)
def test_only_staff_reverse_and_only_with_a_reason(bonus, nadia, pia, who, reason, code):
    user = {"nadia": nadia, "pia": pia}[who]
    with pytest.raises(DomainError) as refused:
        ledger_transaction_reverse(transaction_id=bonus.pk, reason=reason, actor=actor_for(user))
    assert refused.value.code == code
    assert not Transaction.objects.filter(reverses=bonus).exists()


def test_the_command_reverses_once_and_says_so(bonus, nadia, capsys):
    call_command("ledger_reverse", str(bonus.pk), "--reason", "duplicate bonus", "--by", "nadia")
    call_command("ledger_reverse", str(bonus.pk), "--reason", "duplicate bonus", "--by", "nadia")

    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Reversed: transaction #")
    assert out[1].startswith("Already reversed: transaction #")
    assert Transaction.objects.filter(reverses=bonus).count() == 1


def test_the_command_explains_a_refusal(nadia):
    with pytest.raises(CommandError, match="not_found"):
        call_command("ledger_reverse", "999999", "--reason", "x", "--by", "nadia")
    with pytest.raises(CommandError, match="No user"):
        call_command("ledger_reverse", "1", "--reason", "x", "--by", "nobody")
