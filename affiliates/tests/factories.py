"""factory_boy factories for the affiliates app."""

from __future__ import annotations

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from affiliates.models import Advertiser, Cap, Coupon, CustomPayout, Goal, Offer, OfferAccess, Publisher


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pass-word-123")


class AdvertiserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Advertiser
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Advertiser {n}")
    currency = "USD"
    postback_token_digest = factory.Sequence(lambda n: f"{n:064x}")
    postback_token_hint = "tok"

    @factory.post_generation
    def postback_token(self, create: bool, extracted: str | None, **kwargs: object) -> None:
        """Pass ``postback_token="..."`` to set a known token; otherwise a random one."""
        from affiliates.models import token_digest

        if extracted:
            self.postback_token_digest = token_digest(extracted)
            self.postback_token_hint = extracted[:6]
            if create:
                self.save(update_fields=["postback_token_digest", "postback_token_hint"])


class PublisherFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Publisher

    name = factory.Sequence(lambda n: f"Publisher {n}")
    email = factory.LazyAttribute(lambda p: f"{p.name.lower().replace(' ', '')}@example.com")
    status = Publisher.Status.ACTIVE
    # Somewhere to pay: without payout details a payout run holds the publisher's payouts.
    payout_details = factory.LazyAttribute(lambda p: {"account": p.email})


class OfferFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Offer

    advertiser = factory.SubFactory(AdvertiserFactory)
    name = factory.Sequence(lambda n: f"Offer {n}")
    landing_url = "https://shop.example.com/landing?cid={click_id}&s1={sub1}"
    currency = "USD"
    visibility = Offer.Visibility.APPROVAL


class GoalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Goal

    offer = factory.SubFactory(OfferFactory)
    code = factory.Sequence(lambda n: f"goal{n}")
    name = factory.LazyAttribute(lambda g: g.code.title())
    payout_type = Goal.PayoutType.CPA
    payout = Decimal("10.00")
    revenue = Decimal("15.00")
    is_default = False


class CustomPayoutFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomPayout

    publisher = factory.SubFactory(PublisherFactory)
    offer = factory.SubFactory(OfferFactory)
    payout = Decimal("12.00")


class CapFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cap

    offer = factory.SubFactory(OfferFactory)
    metric = Cap.Metric.CONVERSIONS
    period = Cap.Period.DAY
    limit = Decimal("100")


class CouponFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Coupon

    code = factory.Sequence(lambda n: f"SAVE{n}")
    publisher = factory.SubFactory(PublisherFactory)
    offer = factory.SubFactory(OfferFactory)


class OfferAccessFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OfferAccess

    offer = factory.SubFactory(OfferFactory)
    publisher = factory.SubFactory(PublisherFactory)
    status = OfferAccess.Status.APPROVED
