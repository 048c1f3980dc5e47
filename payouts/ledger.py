"""Posting to the ledger and reading balances.

``ledger_post`` is the only way entries are written one transaction at a time; bulk
reconciliation writes the same rows set-based. Both rely on ``Transaction.key`` being unique,
which makes every posting idempotent: posting the same key twice writes nothing the second time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction

from affiliates.core.money import MoneySum
from payouts.models import Account, Commission, Entry, Payout, Transaction


@dataclass(frozen=True)
class Line:
    account: Account
    amount: Decimal


class UnbalancedTransaction(ValueError):
    pass


def account_get(
    *, kind: str, currency: str, advertiser_id: int | None = None, publisher_id: int | None = None
) -> Account:
    account, _ = Account.objects.get_or_create(
        kind=kind, currency=currency, advertiser_id=advertiser_id, publisher_id=publisher_id
    )
    return account


def ledger_post(
    *,
    kind: str,
    key: str,
    lines: Sequence[Line],
    commission: Commission | None = None,
    payout: Payout | None = None,
    reverses: Transaction | None = None,
    memo: str = "",
) -> Transaction | None:
    """Write one balanced transaction. Returns None when ``key`` was already posted."""
    lines = [line for line in lines if line.amount != 0]
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for line in lines:
        totals[line.account.currency] += line.amount
    if any(total != 0 for total in totals.values()):
        raise UnbalancedTransaction(f"{key}: entries do not sum to zero: {dict(totals)}")
    if Transaction.objects.filter(key=key).exists():
        return None
    try:
        with transaction.atomic():
            txn = Transaction.objects.create(
                kind=kind, key=key, commission=commission, payout=payout, reverses=reverses, memo=memo
            )
            # One INSERT for all the entries: the database checks each statement's entries sum to
            # zero per transaction (payouts.ledger_guard), so they must not be split.
            Entry.objects.bulk_create(
                Entry(
                    transaction=txn, account=line.account, amount=line.amount, currency=line.account.currency
                )
                for line in lines
            )
    except IntegrityError:
        # A concurrent poster won the race on the unique key: same outcome, nothing to do.
        if Transaction.objects.filter(key=key).exists():
            return None
        raise
    return txn


def publisher_balances(
    *, publisher_id: int, kind: str = Account.Kind.PUBLISHER_PAYABLE
) -> dict[str, Decimal]:
    """What the network owes the publisher, per currency (payables are credits, so negated)."""
    rows = (
        Entry.objects.filter(account__kind=kind, account__publisher_id=publisher_id)
        .values("currency")
        .annotate(total=MoneySum("amount"))
    )
    return {row["currency"]: -row["total"] for row in rows}
