"""The database keeps the ledger's rules (payouts.ledger_guard), whatever code writes to it.

Writes here commit for real (transactional tests): SQLite checks the zero-sum rule when a
transaction commits, PostgreSQL when the INSERT statement ends, and either way nothing
unbalanced may be left in the ledger afterwards.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from affiliates.roles import actor_for
from payouts.ledger import Line, account_get, ledger_post
from payouts.ledger_guard import (
    UnbalancedLedger,
    ledger_guard_install,
    ledger_guard_remove,
    ledger_unbalanced,
)
from payouts.models import Account, Entry, Transaction
from payouts.reconcile import conversions_reconcile
from payouts.services import commissions_set_status
from payouts.tests.helpers import convert, every_transaction_balances

pytestmark = pytest.mark.django_db(transaction=True)
K = Account.Kind


@pytest.fixture
def accounts(pixelpush: Any) -> tuple[Account, Account, Account]:
    return (
        account_get(kind=K.PUBLISHER_PAYABLE, currency="USD", publisher_id=pixelpush.pk),
        account_get(kind=K.NETWORK_CASH, currency="USD"),
        account_get(kind=K.NETWORK_CASH, currency="EUR"),
    )


def _insert(rows: list[tuple[int, int, str, str]]) -> None:
    """One raw multi-row INSERT of (transaction, account, amount, currency) entries."""
    values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(rows))
    params = [v for (t, a, amount, cur) in rows for v in (t, a, amount, cur, timezone.now())]
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO payouts_entry (transaction_id, account_id, amount, currency, created_at) "
            f"VALUES {values}",
            params,
        )


def _bare_transaction(key: str) -> Transaction:
    return Transaction.objects.create(kind=Transaction.Kind.ADJUSTMENT, key=key)


def test_an_unbalanced_entry_written_through_the_orm_cannot_commit(accounts):
    payable, cash, _ = accounts
    txn = _bare_transaction("orm-unbalanced")

    with pytest.raises(IntegrityError):
        Entry.objects.create(transaction=txn, account=payable, amount=Decimal("-5"), currency="USD")
    with pytest.raises(IntegrityError), transaction.atomic():
        Entry.objects.bulk_create(
            [
                Entry(transaction=txn, account=payable, amount=Decimal("-5"), currency="USD"),
                Entry(transaction=txn, account=cash, amount=Decimal("4.99"), currency="USD"),
            ]
        )

    assert not Entry.objects.filter(transaction=txn).exists()


def test_an_unbalanced_raw_insert_cannot_commit_and_a_balanced_one_can(accounts):
    payable, cash, _ = accounts
    txn = _bare_transaction("raw")

    with pytest.raises(IntegrityError):
        _insert([(txn.pk, cash.pk, "10.00", "USD")])
    with pytest.raises(IntegrityError), transaction.atomic():
        _insert([(txn.pk, cash.pk, "10.00", "USD"), (txn.pk, payable.pk, "-9.999999", "USD")])
    # 0.10 + 0.20 - 0.30 is not zero in floating point, which is how SQLite keeps decimals.
    _insert(
        [
            (txn.pk, cash.pk, "0.10", "USD"),
            (txn.pk, cash.pk, "0.20", "USD"),
            (txn.pk, payable.pk, "-0.30", "USD"),
        ]
    )

    assert Entry.objects.filter(transaction=txn).count() == 3
    assert every_transaction_balances()


def test_each_currency_must_balance_on_its_own(accounts):
    payable, _, cash_eur = accounts
    txn = _bare_transaction("two-currencies")

    with pytest.raises(IntegrityError):
        _insert([(txn.pk, payable.pk, "-5", "USD"), (txn.pk, cash_eur.pk, "5", "EUR")])

    assert not Entry.objects.filter(transaction=txn).exists()


def test_entries_added_to_a_posted_transaction_must_balance_by_themselves(accounts):
    payable, cash, _ = accounts
    txn = ledger_post(
        kind="adjustment", key="posted", lines=[Line(payable, Decimal("-5")), Line(cash, Decimal("5"))]
    )
    assert txn is not None

    with pytest.raises(IntegrityError):
        _insert([(txn.pk, cash.pk, "1", "USD")])

    assert Entry.objects.filter(transaction=txn).count() == 2


def test_every_writer_of_the_ledger_passes_the_check(shoes, pixelpush, nadia):
    """Reconciliation (COPY on PostgreSQL, INSERT ... unnest or VALUES otherwise), a status
    change and ledger_post all write a transaction's entries the way the guard accepts."""
    for _ in range(3):
        convert(shoes, pixelpush)
    conversions_reconcile()
    ids = list(Transaction.objects.values_list("commission_id", flat=True))
    commissions_set_status(commission_ids=ids, status="approved", reason="ok", actor=actor_for(nadia))

    assert Transaction.objects.count() == 6
    assert every_transaction_balances()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE payouts_entry SET amount = amount * 2",
        "DELETE FROM payouts_entry",
        "UPDATE payouts_transaction SET memo = 'edited'",
        "DELETE FROM payouts_transaction",
        "UPDATE payouts_account SET currency = 'EUR'",
        "DELETE FROM payouts_account",
    ],
)
def test_posted_rows_cannot_be_updated_or_deleted(accounts, statement):
    payable, cash, _ = accounts
    ledger_post(kind="adjustment", key="k", lines=[Line(payable, Decimal("-5")), Line(cash, Decimal("5"))])

    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)

    assert sorted(Entry.objects.values_list("amount", flat=True)) == [Decimal("-5"), Decimal("5")]


def test_the_orm_cannot_update_or_delete_an_entry_either(accounts):
    payable, cash, _ = accounts
    ledger_post(kind="adjustment", key="k", lines=[Line(payable, Decimal("-5")), Line(cash, Decimal("5"))])
    entry = Entry.objects.first()

    with pytest.raises(DatabaseError), transaction.atomic():
        Entry.objects.filter(pk=entry.pk).update(amount=Decimal("-6"))
    with pytest.raises(DatabaseError), transaction.atomic():
        entry.delete()

    assert Entry.objects.count() == 2


@pytest.mark.postgres
@pytest.mark.parametrize(
    "statement",
    [
        "TRUNCATE payouts_entry",
        "TRUNCATE payouts_transaction CASCADE",
        "TRUNCATE payouts_account",
        "TRUNCATE payouts_commission CASCADE",  # reaches payouts_transaction through its foreign key
    ],
)
def test_the_ledger_cannot_be_truncated(accounts, statement):
    payable, cash, _ = accounts
    ledger_post(kind="adjustment", key="k", lines=[Line(payable, Decimal("-5")), Line(cash, Decimal("5"))])

    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)

    assert Entry.objects.count() == 2


def test_the_guard_is_not_installed_over_a_ledger_that_does_not_balance(accounts):
    payable, _, _ = accounts
    txn = _bare_transaction("legacy")
    with transaction.atomic():
        ledger_guard_remove(connection=connection, parts=["balance"])
        _insert([(txn.pk, payable.pk, "-5", "USD")])
        assert ledger_unbalanced(connection=connection) == [(txn.pk, "USD", Decimal("-5"))]
        with pytest.raises(UnbalancedLedger, match=f"{txn.pk}"):
            ledger_guard_install(connection=connection)
        transaction.set_rollback(True)

    # Rolled back whole: the guard is still there.
    with pytest.raises(IntegrityError):
        _insert([(txn.pk, payable.pk, "-5", "USD")])
