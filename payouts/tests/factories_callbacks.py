"""Small factories for postback tests: a click, its conversion, the commission, an endpoint."""

from __future__ import annotations

from decimal import Decimal

import factory
from django.utils import timezone

from affiliates.tests.factories import GoalFactory, OfferFactory, PublisherFactory
from payouts.models.callbacks import CallbackEndpoint
from payouts.models.commissions import Commission
from tracking.ids import new_click_id
from tracking.models.clicks import Click
from tracking.models.conversions import Conversion


class ClickFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Click

    id = factory.LazyFunction(new_click_id)
    offer = factory.SubFactory(OfferFactory)
    publisher = factory.SubFactory(PublisherFactory)
    sub1 = "s1"


class ConversionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversion

    goal = factory.SubFactory(GoalFactory)
    offer = factory.LazyAttribute(lambda c: c.goal.offer)
    publisher = factory.SubFactory(PublisherFactory)
    click = factory.LazyAttribute(lambda c: ClickFactory(offer=c.offer, publisher=c.publisher))
    txn_id = factory.Sequence(lambda n: f"order-{n}")
    status = "pending"


class CommissionFactory(factory.django.DjangoModelFactory):
    """A conversion commission; pass ``kind="cpc"`` and ``conversion=None`` for a daily line."""

    class Meta:
        model = Commission

    conversion = factory.SubFactory(ConversionFactory)
    kind = Commission.Kind.CONVERSION
    source_key = factory.Sequence(lambda n: f"conversion:test-{n}")
    goal = factory.LazyAttribute(lambda c: c.conversion.goal if c.conversion else GoalFactory())
    offer = factory.LazyAttribute(lambda c: c.goal.offer)
    advertiser = factory.LazyAttribute(lambda c: c.offer.advertiser)
    publisher = factory.LazyAttribute(
        lambda c: c.conversion.publisher if c.conversion else PublisherFactory()
    )
    day = factory.LazyFunction(lambda: timezone.now().date())
    currency = "USD"
    revenue = Decimal("15.00")
    payout = Decimal("10.00")


class CallbackEndpointFactory(factory.django.DjangoModelFactory):
    """Saved without validation, as a URL might be whose DNS changed after it was checked."""

    class Meta:
        model = CallbackEndpoint

    publisher = factory.SubFactory(PublisherFactory)
    url = "https://tracker.example.com/pb?cid={click_id}"
    on_created = True
