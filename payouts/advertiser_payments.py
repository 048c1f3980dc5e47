"""Recording money received from an advertiser: it settles the receivable in the ledger.

A payment posts one transaction, key ``advertiser_payment:<id>``: debit NETWORK_CASH, credit
ADVERTISER_RECEIVABLE. Approved revenue debits that receivable and reversals credit it, so
once every invoice is paid (less its credit notes) the advertiser's balance is zero. An
overpayment leaves a credit balance (negative), which the next invoice uses up.

Recording is idempotent on (advertiser, reference): the same bank reference again returns the
payment recorded first, and a different amount under it is a conflict, never a second posting.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from affiliates.core.errors import Conflict, DomainError
from affiliates.core.money import MoneySum, currency_is_valid, money_round
from affiliates.models import Advertiser
from payouts.ledger import Line, account_get, ledger_post
from payouts.models import Account, AdvertiserPayment, Document, Entry, Transaction


def advertiser_payment_record(
    *,
    advertiser: Advertiser,
    currency: str,
    amount: Decimal,
    reference: str,
    received_on: date,
    document: Document | None = None,
    user: Any = None,
) -> tuple[AdvertiserPayment, bool]:
    """Record a payment and post it; (payment, created)."""
    reference = (reference or "").strip()[:128]
    _check(advertiser, currency, amount, reference, document)
    existing = AdvertiserPayment.objects.filter(advertiser=advertiser, reference=reference).first()
    if existing:
        return _same(existing, currency, amount), False
    try:
        with transaction.atomic():
            payment = AdvertiserPayment.objects.create(
                advertiser=advertiser,
                currency=currency,
                amount=amount,
                reference=reference,
                received_on=received_on,
                document=document,
                recorded_by=user if getattr(user, "pk", None) else None,
            )
            _post(payment)
    except IntegrityError:
        # A concurrent request recorded the same reference first.
        existing = AdvertiserPayment.objects.get(advertiser=advertiser, reference=reference)
        return _same(existing, currency, amount), False
    return payment, True


def advertiser_balances(*, advertiser_id: int) -> dict[str, Decimal]:
    """What the advertiser owes on approved revenue, per currency, after payments received."""
    rows = (
        Entry.objects.filter(
            account__kind=Account.Kind.ADVERTISER_RECEIVABLE, account__advertiser_id=advertiser_id
        )
        .values_list("currency")
        .annotate(total=MoneySum("amount"))
        .order_by("currency")
    )
    return {currency: money_round(total, currency) for currency, total in rows}


def _check(
    advertiser: Advertiser, currency: str, amount: Decimal, reference: str, document: Document | None
) -> None:
    if not reference:
        raise DomainError("A payment reference is required.", code="reference_required")
    if not currency_is_valid(currency):
        raise DomainError(f"{currency!r} is not an ISO 4217 currency code.", code="unknown_currency")
    if amount <= 0 or money_round(amount, currency) != amount:
        raise DomainError(f"amount must be positive and in whole {currency} minor units.", code="bad_amount")
    if document is not None:
        if document.advertiser_id != advertiser.pk or document.kind != Document.Kind.INVOICE:
            raise DomainError("The document is not an invoice of this advertiser.", code="bad_document")
        if currency not in document.totals:
            raise DomainError(f"Invoice {document.number_text} bills no {currency}.", code="bad_currency")


def _same(existing: AdvertiserPayment, currency: str, amount: Decimal) -> AdvertiserPayment:
    if existing.currency != currency or existing.amount != amount:
        raise Conflict(
            f"Reference {existing.reference!r} was recorded for {existing.amount} {existing.currency}.",
            code="reference_reused",
        )
    return existing


def _post(payment: AdvertiserPayment) -> None:
    receivable = account_get(
        kind=Account.Kind.ADVERTISER_RECEIVABLE,
        currency=payment.currency,
        advertiser_id=payment.advertiser_id,
    )
    cash = account_get(kind=Account.Kind.NETWORK_CASH, currency=payment.currency)
    ledger_post(
        kind=Transaction.Kind.ADVERTISER_PAYMENT,
        key=f"advertiser_payment:{payment.pk}",
        lines=[Line(cash, payment.amount), Line(receivable, -payment.amount)],
        memo=f"Payment from advertiser {payment.advertiser_id} ref {payment.reference}"[:255],
    )
