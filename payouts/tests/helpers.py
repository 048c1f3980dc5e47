"""Building conversions, clicks and ledger reads for payouts' tests."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from affiliates.core.money import MoneySum
from affiliates.models import Goal, Offer, Publisher
from payouts.ledger_guard import ledger_guard_install, ledger_guard_remove
from payouts.models import Account, Commission, Entry
from tracking.models import Conversion, UnreconciledConversion


def convert(
    offer: Offer,
    publisher: Publisher,
    *,
    goal: str = "sale",
    amount: str | None = "100.00",
    currency: str = "",
    status: str = "pending",
    country: str = "",
    txn_id: str = "",
    at: datetime | None = None,
    held: bool = False,
) -> Conversion:
    return Conversion.objects.create(
        offer=offer,
        publisher=publisher,
        goal=Goal.objects.get(offer=offer, code=goal),
        amount=Decimal(amount) if amount is not None else None,
        currency=currency,
        status=status,
        country=country,
        txn_id=txn_id,
        created_at=at or timezone.now(),
        held_for_review=held,
    )


def queued() -> set[int]:
    """Ids of the conversions waiting in the reconciliation queue."""
    return set(UnreconciledConversion.objects.values_list("conversion_id", flat=True))


def requeue_all() -> None:
    """Queue every conversion again, as if each had come back (a status change would)."""
    UnreconciledConversion.objects.bulk_create(
        [UnreconciledConversion(conversion_id=i) for i in Conversion.objects.values_list("id", flat=True)],
        ignore_conflicts=True,
    )


def balance(kind: str, *, publisher: Any = None, advertiser: Any = None, currency: str = "USD") -> Decimal:
    total = Entry.objects.filter(
        account__kind=kind,
        account__currency=currency,
        account__publisher=publisher,
        account__advertiser=advertiser,
    ).aggregate(t=MoneySum("amount"))["t"]
    return total or Decimal("0")


def ledger_snapshot() -> Counter[tuple[Any, ...]]:
    """The ledger as a multiset of (source, txn kind, account, amount), free of row ids, to
    compare two runs."""
    keys = dict(Commission.objects.values_list("id", "source_key"))
    rows = Entry.objects.values_list(
        "transaction__commission_id",
        "transaction__kind",
        "account__kind",
        "account__advertiser_id",
        "account__publisher_id",
        "currency",
        "amount",
    )
    return Counter((keys.get(c), k, ak, a, p, cur, amt) for c, k, ak, a, p, cur, amt in rows)


def commission_snapshot() -> set[tuple[Any, ...]]:
    return set(Commission.objects.values_list("source_key", "status", "revenue", "payout", "revision"))


def every_transaction_balances() -> bool:
    sums = Entry.objects.values("transaction_id", "currency").annotate(t=MoneySum("amount"))
    bad = [row for row in sums if row["t"] != 0]
    assert not bad, bad
    return True


__all__ = [
    "Account",
    "balance",
    "commission_snapshot",
    "convert",
    "every_transaction_balances",
    "ledger_snapshot",
]


def ledger_truncate() -> None:
    """Empty the ledger and the commissions mid-test, to run the same backlog twice (PostgreSQL).

    The ledger guard refuses TRUNCATE; as for pytest-django's flush (root conftest), it is lifted
    for this statement only, inside one transaction, by the functions migration 0002_triggers runs.
    CASCADE: publisher postback deliveries point at the commissions.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        ledger_guard_remove(connection=connection, parts=["append_only"])
        cursor.execute(
            "TRUNCATE payouts_entry, payouts_transaction, payouts_commission, payouts_account CASCADE"
        )
        ledger_guard_install(connection=connection, parts=["append_only"])
