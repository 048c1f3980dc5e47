"""Small factories for postback tests: a click, its conversion, an endpoint (the commission's
factory is ``payouts.tests.factories_payouts.CommissionFactory``)."""

from __future__ import annotations

import factory

from affiliates.tests.factories import GoalFactory, OfferFactory, PublisherFactory
from payouts.models.callbacks import CallbackEndpoint
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


class CallbackEndpointFactory(factory.django.DjangoModelFactory):
    """Saved without validation, as a URL might be whose DNS changed after it was checked."""

    class Meta:
        model = CallbackEndpoint

    publisher = factory.SubFactory(PublisherFactory)
    url = "https://tracker.example.com/pb?cid={click_id}"
    on_created = True
