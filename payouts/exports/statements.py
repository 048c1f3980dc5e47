"""A publisher's statement for one period: every commission of the period with its status,
every adjustment, reversal and payout posted in it, and the approved balance per currency
before and after. Amounts are from the publisher's side: positive is money to the publisher.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Q, Sum

from affiliates.models import Publisher
from payouts.exports.pdf import Document
from payouts.exports.tabular import amount_text, csv_bytes
from payouts.models import Account, Commission, Entry, Transaction
from payouts.periods import period_end, period_label, period_next, period_start

# Ledger movements listed one by one; commissions and approvals are listed as commissions.
STATEMENT_TXN_KINDS = (
    Transaction.Kind.ADJUSTMENT,
    Transaction.Kind.REVERSAL,
    Transaction.Kind.REJECTION,
    Transaction.Kind.PAYOUT,
    Transaction.Kind.PAYOUT_FAILED,
)
PUBLISHER_ACCOUNT_KINDS = (Account.Kind.PUBLISHER_PENDING, Account.Kind.PUBLISHER_PAYABLE)


@dataclass(frozen=True)
class CommissionLine:
    id: int
    day: date
    offer: str
    goal: str
    kind: str
    quantity: int
    status: str
    currency: str
    payout: str


@dataclass(frozen=True)
class MovementLine:
    transaction_id: int
    created_at: datetime
    kind: str
    account: str
    currency: str
    amount: str
    commission_id: int | None
    payout_id: int | None
    memo: str


@dataclass(frozen=True)
class BalanceLine:
    currency: str
    opening: str
    movement: str
    closing: str


@dataclass
class Statement:
    publisher_id: int
    publisher: str
    period: str
    commissions: list[CommissionLine] = field(default_factory=list)
    movements: list[MovementLine] = field(default_factory=list)
    balances: list[BalanceLine] = field(default_factory=list)


def statement_for(*, publisher: Publisher, period: date) -> Statement:
    statement = Statement(publisher_id=publisher.pk, publisher=publisher.name, period=period_label(period))
    statement.commissions = _commissions(publisher, period)
    statement.movements = _movements(publisher, period)
    statement.balances = _balances(publisher, period)
    return statement


def _commissions(publisher: Publisher, period: date) -> list[CommissionLine]:
    rows = (
        Commission.objects.filter(publisher=publisher, day__gte=period, day__lt=period_next(period))
        .select_related("offer", "goal")
        .order_by("day", "id")
    )
    return [
        CommissionLine(
            id=c.pk,
            day=c.day,
            offer=c.offer.name,
            goal=c.goal.code,
            kind=c.kind,
            quantity=c.quantity,
            status=c.status,
            currency=c.currency,
            payout=amount_text(c.payout, c.currency),
        )
        for c in rows.iterator(chunk_size=2000)
    ]


def _movements(publisher: Publisher, period: date) -> list[MovementLine]:
    entries = (
        Entry.objects.filter(
            account__publisher=publisher,
            account__kind__in=PUBLISHER_ACCOUNT_KINDS,
            transaction__kind__in=STATEMENT_TXN_KINDS,
            created_at__gte=period_start(period),
            created_at__lt=period_end(period),
        )
        .select_related("transaction", "account")
        .order_by("created_at", "id")
    )
    return [
        MovementLine(
            transaction_id=e.transaction_id,
            created_at=e.created_at,
            kind=e.transaction.kind,
            account="approved" if e.account.kind == Account.Kind.PUBLISHER_PAYABLE else "pending",
            currency=e.currency,
            amount=amount_text(-e.amount, e.currency),  # payables are credits
            commission_id=e.transaction.commission_id,
            payout_id=e.transaction.payout_id,
            memo=e.transaction.memo,
        )
        for e in entries
    ]


def _balances(publisher: Publisher, period: date) -> list[BalanceLine]:
    start = period_start(period)
    rows = (
        Entry.objects.filter(
            account__publisher=publisher,
            account__kind=Account.Kind.PUBLISHER_PAYABLE,
            created_at__lt=period_end(period),
        )
        .values_list("currency")
        .annotate(
            opening=Sum("amount", filter=Q(created_at__lt=start)),
            movement=Sum("amount", filter=Q(created_at__gte=start)),
        )
    )
    lines = []
    for currency, opening, movement in sorted(rows):
        opening, movement = -(opening or Decimal("0")), -(movement or Decimal("0"))
        lines.append(
            BalanceLine(
                currency=currency,
                opening=amount_text(opening, currency),
                movement=amount_text(movement, currency),
                closing=amount_text(opening + movement, currency),
            )
        )
    return lines


def statement_csv(statement: Statement) -> bytes:
    """One CSV, one line per item: commissions, then ledger movements, then balances."""
    header = (
        "section",
        "date",
        "id",
        "offer_or_kind",
        "goal_or_account",
        "type",
        "quantity",
        "status",
        "currency",
        "amount",
        "reference",
    )
    rows: list[tuple[object, ...]] = [
        ("commission", c.day, c.id, c.offer, c.goal, c.kind, c.quantity, c.status, c.currency, c.payout, "")
        for c in statement.commissions
    ]
    rows += [
        (
            "transaction",
            m.created_at.isoformat(),
            m.transaction_id,
            m.kind,
            m.account,
            "",
            "",
            "",
            m.currency,
            m.amount,
            _reference(m),
        )
        for m in statement.movements
    ]
    rows += [
        ("balance", statement.period, "", kind, "approved", "", "", "", b.currency, value, "")
        for b in statement.balances
        for kind, value in (("opening", b.opening), ("movement", b.movement), ("closing", b.closing))
    ]
    return csv_bytes(header, rows)


def _reference(m: MovementLine) -> str:
    parts = [
        f"commission {m.commission_id}" if m.commission_id else "",
        f"payout {m.payout_id}" if m.payout_id else "",
    ]
    return "; ".join(p for p in [*parts, m.memo] if p)


def statement_pdf(statement: Statement) -> bytes:
    doc = Document(title=f"Statement {statement.period}")
    doc.lines(
        [("Publisher", f"{statement.publisher} (#{statement.publisher_id})"), ("Period", statement.period)]
    )
    doc.heading("Approved balance")
    doc.table(
        ("Currency", "Opening", "Movement", "Closing"),
        [(b.currency, b.opening, b.movement, b.closing) for b in statement.balances],
        (30, 50, 50, 50),
    )
    doc.heading(f"Commissions ({len(statement.commissions)})")
    doc.table(
        ("Date", "ID", "Offer", "Goal", "Type", "Qty", "Status", "Currency", "Payout"),
        [
            (c.day, c.id, c.offer, c.goal, c.kind, c.quantity, c.status, c.currency, c.payout)
            for c in statement.commissions
        ],
        (24, 18, 90, 28, 24, 16, 24, 20, 28),
    )
    doc.heading(f"Adjustments, reversals and payouts ({len(statement.movements)})")
    doc.table(
        ("Date", "Txn", "Kind", "Account", "Currency", "Amount", "Reference"),
        [
            (
                f"{m.created_at:%Y-%m-%d}",
                m.transaction_id,
                m.kind,
                m.account,
                m.currency,
                m.amount,
                _reference(m),
            )
            for m in statement.movements
        ],
        (24, 18, 32, 24, 20, 28, 126),
    )
    return doc.output()


def statement_file_name(statement: Statement, ext: str) -> str:
    return f"statement-{statement.publisher_id}-{statement.period}.{ext}"
