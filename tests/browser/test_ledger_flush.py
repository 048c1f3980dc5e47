"""The test-only flush of the ledger (root conftest) keeps the append-only guarantee in place:
between and during tests, the database still refuses to rewrite money history."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction

from payouts.ledger import Line, account_get, ledger_post
from payouts.models import Account, Entry

pytestmark = pytest.mark.django_db(transaction=True)


def _post(key: str, publisher_id: int) -> None:
    payable = account_get(kind=Account.Kind.PUBLISHER_PAYABLE, currency="USD", publisher_id=publisher_id)
    cash = account_get(kind=Account.Kind.NETWORK_CASH, currency="USD")
    ledger_post(kind="adjustment", key=key, lines=[Line(payable, Decimal("-5")), Line(cash, Decimal("5"))])


@pytest.mark.parametrize("run", [1, 2])  # the second run starts after the first one's flush
def test_the_ledger_is_flushed_between_tests_yet_refuses_delete_and_update(run, pixelpush):
    assert not Entry.objects.exists()
    _post(f"flush-test-{run}", pixelpush.pk)
    for statement in ("DELETE FROM payouts_entry", "UPDATE payouts_entry SET amount = 0"):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
    assert Entry.objects.count() == 2
