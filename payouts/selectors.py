"""Balance reads: always sums of ledger entries, never a stored figure."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet

from affiliates.core.money import MoneySum
from affiliates.roles import Actor, scope
from payouts.models import Account, Entry, Transaction

K = Account.Kind
ZERO = Decimal("0")


def entries_for_actor(actor: Actor) -> QuerySet[Entry]:
    """Staff see the whole ledger; a publisher or an advertiser the entries on its own accounts."""
    qs = Entry.objects.select_related("account", "transaction")
    return scope(qs, actor, advertiser_path="account__advertiser_id", publisher_path="account__publisher_id")


def account_balances(*, filters: Q | None = None) -> list[dict[str, Any]]:
    """Every account (narrowed by ``filters``) with its balance; debit positive."""
    rows = (
        Account.objects.filter(filters or Q())
        .annotate(balance=MoneySum("entries__amount"))
        .values("id", "kind", "advertiser_id", "publisher_id", "currency", "balance")
        .order_by("kind", "currency", "id")
    )
    return [{**row, "balance": row["balance"] or ZERO} for row in rows]


def publisher_summary(*, publisher_id: int) -> dict[str, dict[str, Decimal]]:
    """Per currency: pending and approved (what the network owes, so credits negated) and paid
    (payouts sent, net of failed ones). ``approved`` may be negative after a reversal of
    something already paid; the next payout nets it."""
    out: dict[str, dict[str, Decimal]] = defaultdict(
        lambda: {"pending": ZERO, "approved": ZERO, "paid": ZERO}
    )
    rows = (
        Entry.objects.filter(account__publisher_id=publisher_id)
        .values("currency", "account__kind")
        .annotate(total=MoneySum("amount"))
    )
    for row in rows:
        key = "pending" if row["account__kind"] == K.PUBLISHER_PENDING else "approved"
        out[row["currency"]][key] = -row["total"]
    paid = (
        Entry.objects.filter(
            account__publisher_id=publisher_id,
            account__kind=K.PUBLISHER_PAYABLE,
            transaction__kind__in=[Transaction.Kind.PAYOUT, Transaction.Kind.PAYOUT_FAILED],
        )
        .values("currency")
        .annotate(total=MoneySum("amount"))
    )
    for row in paid:
        out[row["currency"]]["paid"] = row["total"]
    return dict(out)


def advertiser_summary(*, advertiser_id: int) -> dict[str, dict[str, Decimal]]:
    """Per currency: revenue pending and approved (what the advertiser owes)."""
    out: dict[str, dict[str, Decimal]] = defaultdict(lambda: {"pending": ZERO, "approved": ZERO})
    rows = (
        Entry.objects.filter(account__advertiser_id=advertiser_id)
        .values("currency", "account__kind")
        .annotate(total=MoneySum("amount"))
    )
    for row in rows:
        key = "pending" if row["account__kind"] == K.ADVERTISER_PENDING else "approved"
        out[row["currency"]][key] = row["total"]
    return dict(out)
