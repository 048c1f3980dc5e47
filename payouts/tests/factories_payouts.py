"""Factories and ledger helpers for payout-run tests.

Reconciliation and approval are built elsewhere; these tests make approved balances directly:
an approval-like transaction crediting the publisher's approved payable and debiting the
advertiser's approved receivable. Entries are written with an explicit ``created_at`` (an
INSERT, never an UPDATE: the ledger rejects edits) so a balance can sit in a past period.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime
from decimal import Decimal

import factory
from django.utils import timezone

from affiliates.models import Advertiser, Publisher
from affiliates.tests.factories import AdvertiserFactory, GoalFactory, OfferFactory, PublisherFactory
from payouts.ledger import account_get
from payouts.models import Account, Commission, CommissionStatus, Entry, Transaction

_keys = itertools.count(1)


class CommissionFactory(factory.django.DjangoModelFactory):
    """An approved CPC daily line by default. Pass ``conversion=`` for a conversion's commission:
    its kind, goal, offer and publisher then follow the conversion, and it starts pending."""

    class Meta:
        model = Commission

    conversion = None
    kind = factory.LazyAttribute(
        lambda c: Commission.Kind.CONVERSION if c.conversion else Commission.Kind.CPC
    )
    source_key = factory.LazyAttributeSequence(lambda c, n: f"{c.kind}:test:{n}")
    offer = factory.LazyAttribute(lambda c: c.conversion.offer if c.conversion else OfferFactory())
    advertiser = factory.LazyAttribute(lambda c: c.offer.advertiser)
    publisher = factory.LazyAttribute(
        lambda c: c.conversion.publisher if c.conversion else PublisherFactory()
    )
    goal = factory.LazyAttribute(lambda c: c.conversion.goal if c.conversion else GoalFactory(offer=c.offer))
    day = factory.LazyFunction(lambda: timezone.now().date())
    quantity = 1
    status = factory.LazyAttribute(
        lambda c: CommissionStatus.PENDING if c.conversion else CommissionStatus.APPROVED
    )
    currency = "USD"
    revenue = Decimal("15.00")
    payout = Decimal("10.00")


def post_at(
    *, kind: str, at: datetime, lines: list[tuple[Account, Decimal]], key: str | None = None, **links: object
) -> Transaction:
    """Write one balanced transaction dated ``at``."""
    assert sum(amount for _, amount in lines) == 0
    txn = Transaction.objects.create(
        kind=kind, key=key or f"test:{kind}:{next(_keys)}", created_at=at, **links
    )
    Entry.objects.bulk_create(
        Entry(transaction=txn, account=acc, amount=amt, currency=acc.currency, created_at=at)
        for acc, amt in lines
    )
    return txn


def approve_balance(
    publisher: Publisher,
    amount: str | Decimal,
    *,
    at: datetime,
    currency: str = "USD",
    advertiser: Advertiser | None = None,
    kind: str = Transaction.Kind.APPROVAL,
    **links: object,
) -> Transaction:
    """Credit the publisher's approved payable by ``amount`` (negative: debit, as a reversal)."""
    advertiser = advertiser or AdvertiserFactory()
    value = Decimal(amount)
    payable = account_get(kind=Account.Kind.PUBLISHER_PAYABLE, currency=currency, publisher_id=publisher.pk)
    receivable = account_get(
        kind=Account.Kind.ADVERTISER_RECEIVABLE, currency=currency, advertiser_id=advertiser.pk
    )
    return post_at(kind=kind, at=at, lines=[(payable, -value), (receivable, value)], **links)


def reverse_balance(
    publisher: Publisher, amount: str | Decimal, *, at: datetime, currency: str = "USD"
) -> Transaction:
    return approve_balance(
        publisher, -Decimal(amount), at=at, currency=currency, kind=Transaction.Kind.REVERSAL
    )


def mid(period: date) -> datetime:
    """Noon UTC on the 15th of the period's month."""
    from datetime import UTC

    return datetime(period.year, period.month, 15, 12, tzinfo=UTC)
