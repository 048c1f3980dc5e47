"""Small factories for callback tests: a conversion (on a click from
``tracking.tests.factories.click_make``), an endpoint (the commission's
factory is ``payouts.tests.factories_payouts.CommissionFactory``)."""

from __future__ import annotations

import factory

from affiliates.tests.factories import GoalFactory, PublisherFactory
from payouts.models.callbacks import CallbackEndpoint
from tracking.models.conversions import Conversion
from tracking.tests.factories import click_make


class ConversionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversion

    goal = factory.SubFactory(GoalFactory)
    offer = factory.LazyAttribute(lambda c: c.goal.offer)
    publisher = factory.SubFactory(PublisherFactory)
    click = factory.LazyAttribute(lambda c: click_make(c.offer, c.publisher, sub1="s1"))
    txn_id = factory.Sequence(lambda n: f"order-{n}")
    status = "pending"


class CallbackEndpointFactory(factory.django.DjangoModelFactory):
    """Saved without validation, as a URL might be whose DNS changed after it was checked."""

    class Meta:
        model = CallbackEndpoint

    publisher = factory.SubFactory(PublisherFactory)
    url = "https://tracker.example.com/pb?cid={click_id}"
    on_created = True
