"""The customer-value story shared by the customer tests: acme's customers over 2026 (see
``story`` for every number worked out by hand)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from affiliates.models import Advertiser, Goal, Offer, Publisher
from affiliates.roles import Actor, Role
from payouts.models.commissions import Commission, CommissionStatus
from payouts.reports.customers.services import customer_value_refresh
from tracking.conversions.customers import customer_hash
from tracking.models import Conversion

AS_OF = datetime(2026, 9, 15, tzinfo=UTC)
JAN10 = datetime(2026, 1, 10, 12, tzinfo=UTC)


def staff() -> Actor:
    return Actor(role=Role.STAFF)


def advertiser_actor(adv: Advertiser) -> Actor:
    return Actor(role=Role.ADVERTISER, advertiser_id=adv.id)


def publisher_actor(pub: Publisher) -> Actor:
    return Actor(role=Role.PUBLISHER, publisher_id=pub.id)


def order(
    offer: Offer,
    publisher: Publisher,
    at: datetime,
    *,
    customer: str | None,
    amount: str = "100",
    ctype: str | None = None,
    source: str = "",
    status: str = "pending",
) -> Conversion:
    """A conversion with its commission: CPS 12 % revenue and 8 % payout of ``amount``."""
    goal = Goal.objects.get(offer=offer, is_default=True)
    conv = Conversion.objects.create(
        created_at=at,
        advertiser=offer.advertiser,
        offer=offer,
        publisher=publisher,
        goal=goal,
        amount=Decimal(amount),
        currency=offer.currency,
        status=status,
        source_id=source,
        customer_hash=customer_hash(key=offer.advertiser.customer_key, customer_id=customer)
        if customer
        else None,
        customer_type=ctype,
    )
    paid = status in ("pending", "approved")
    Commission.objects.create(
        source_key=f"conversion:{conv.id}",
        kind=Commission.Kind.CONVERSION,
        conversion=conv,
        advertiser=offer.advertiser,
        offer=offer,
        publisher=publisher,
        goal=goal,
        currency=offer.currency,
        revenue=Decimal(amount) * Decimal("0.12"),
        payout=Decimal(amount) * Decimal("0.08"),
        sale_amount=Decimal(amount),
        status=CommissionStatus.PENDING if paid else CommissionStatus.REJECTED,
        day=at.date(),
    )
    return conv


@pytest.fixture
def story(
    shoes: Offer, pixelpush: Publisher, rival: Publisher, globex: Advertiser, shoes_link: Any
) -> dict[str, Any]:
    """acme's customers (a first order of 100 earns revenue 12, payout 8; a repeat of 50: 6 and 4):

    - C1, first 2026-01-10 through pixelpush (source "blog"); repeats at days 10, 45, 100 and
      200; an earlier *rejected* order (01-05) does not count. 30 days: 2 orders, revenue 18,
      payout 12; 60 and 90: 3 orders, 24 / 16; 180: 4 orders, 30 / 20; day 200 is past every
      horizon.
    - C2, first 2026-01-25 through rival: one order (12 / 8) at every horizon.
    - C3, first 2026-02-05 through pixelpush, reported ``customer_type=returning`` (the
      advertiser knew them), a repeat through *rival* at day 20: owned by pixelpush, 2 orders,
      18 / 12 at every horizon.
    - An order with no customer id, reported new, through rival on 02-10: only in the mix.
    - globex has a customer with the same raw id "C1": another advertiser's, never acme's.

    Jan cohort: 2 customers; 30: 3 orders, 30 / 20; 60 and 90: 4, 36 / 24; 180: 5, 42 / 28.
    Feb cohort: 1 customer; 2 orders, 18 / 12 at every horizon.
    Mix: pixelpush new 1 (C1's first), returning 5 (C1's four repeats, C3's reported first);
    rival new 2 (C2's first, the reported new), returning 1 (C3's repeat).
    """
    order(shoes, pixelpush, JAN10 - timedelta(days=5), customer="C1", status="rejected")
    order(shoes, pixelpush, JAN10, customer="C1", source="blog")
    for day in (10, 45, 100, 200):
        order(shoes, pixelpush, JAN10 + timedelta(days=day), customer="C1", amount="50", source="blog")
    order(shoes, rival, datetime(2026, 1, 25, 9, tzinfo=UTC), customer="C2")
    c3 = datetime(2026, 2, 5, 15, tzinfo=UTC)
    order(shoes, pixelpush, c3, customer="C3", ctype="returning")
    order(shoes, rival, c3 + timedelta(days=20), customer="C3", amount="50")
    order(shoes, rival, datetime(2026, 2, 10, tzinfo=UTC), customer=None, ctype="new")
    boots = Offer.objects.create(
        advertiser=globex, name="Globex Boots", landing_url="https://boots.example.com/", currency="EUR"
    )
    Goal.objects.create(
        offer=boots, code="sale", name="Sale", payout_type="cps", payout=8, revenue=12, is_default=True
    )
    order(boots, pixelpush, JAN10, customer="C1", amount="999")
    customer_value_refresh(as_of=AS_OF)
    return {"shoes": shoes, "boots": boots}
