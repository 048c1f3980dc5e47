"""The journey story shared by the journey tests: one visitor's clicks on acme's shoes offer
through three publishers, and the conversion it ended in (every number worked out by hand)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from affiliates.models import Goal, Offer, Publisher
from payouts.models.commissions import Commission, CommissionStatus
from tracking.models import Click, Conversion
from tracking.tests.factories import click_make

T = datetime(2026, 11, 20, 12, tzinfo=UTC)
AS_OF = T + timedelta(hours=1)


def converted(
    offer: Offer, click: Click, *, at: datetime = T, amount: str = "100", status: str = "pending"
) -> Conversion:
    """A conversion through ``click`` and its commission: CPS 12 % revenue, 8 % payout."""
    goal = Goal.objects.get(offer=offer, is_default=True)
    conv = Conversion.objects.create(
        created_at=at,
        advertiser=offer.advertiser,
        offer=offer,
        publisher_id=click.publisher_id,
        goal=goal,
        click=click,
        click_time=click.created_at,
        amount=Decimal(amount),
        status=status,
        trace={"attribution": {"model": "last_click", "by": "click_id", "click_id": click.id.hex}},
    )
    Commission.objects.create(
        source_key=f"conversion:{conv.id}",
        kind=Commission.Kind.CONVERSION,
        conversion=conv,
        advertiser=offer.advertiser,
        offer=offer,
        publisher_id=click.publisher_id,
        goal=goal,
        currency=offer.currency,
        revenue=Decimal(amount) * Decimal("0.12"),
        payout=Decimal(amount) * Decimal("0.08"),
        status=CommissionStatus.PENDING,
        day=at.date(),
    )
    return conv


def three_touches(
    offer: Offer, first: Publisher, middle: Publisher, closer: Publisher, **visitor: Any
) -> Conversion:
    """Clicks 14 days, 7 days and 0 days before the conversion; the closer's click is reported."""
    click_make(offer, first, at=T - timedelta(days=14), sub1="blog", source="seo", **visitor)
    click_make(offer, middle, at=T - timedelta(days=7), sub1="deal", source="email", **visitor)
    last = click_make(offer, closer, at=T, sub1="cashback", source="app", **visitor)
    return converted(offer, last)
