"""Automation fixtures: a creative and an A/B test on acme's shoes offer (priced in NOK), rollup
traffic, rules."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import F
from django.utils import timezone

from affiliates.models import Creative, Offer, Publisher
from affiliates.roles import Actor, Role, actor_for
from affiliates.tests import factories as f
from payouts.automation import services
from payouts.automation.models import Rule
from payouts.experiments import abtests
from payouts.experiments.models import AbVariantDaily
from payouts.reports.services import floor_hour
from tracking.models import AbTest, AbVariant
from tracking.models.reports import ROLLUP_AMOUNTS, HourlyOfferStat, HourlySourceStat, HourlyStat
from tracking.models.smartlinks import SmartLink, SmartPathDaily
from tracking.smartlinks.services import PathSpec, smart_link_create


@pytest.fixture
def nok_shoes(shoes: Offer) -> Offer:
    Offer.objects.filter(pk=shoes.pk).update(currency="NOK")
    shoes.refresh_from_db()
    return shoes


@pytest.fixture
def banner(nok_shoes: Offer) -> Creative:
    return Creative.objects.create(
        offer=nok_shoes, name="Summer banner", kind=Creative.Kind.TEXT, body="Shoes! {tracking_link}"
    )


def rollup(
    offer: Offer, publisher: Publisher, *, hour: datetime | None = None, sub1: str = "", **counters: Any
) -> None:
    """Add counters to the hourly rollups as the refresh does: the full row and the offer cube."""
    hour = floor_hour(hour or timezone.now())
    values = {k: Decimal(v) if k in ROLLUP_AMOUNTS else v for k, v in counters.items()}
    HourlyStat.objects.create(
        hour=hour,
        advertiser_id=offer.advertiser_id,
        offer=offer,
        publisher=publisher,
        currency=offer.currency,
        country="NO",
        device="desktop",
        sub1=sub1,
        **values,
    )
    cube, created = HourlyOfferStat.objects.get_or_create(
        hour=hour,
        offer=offer,
        publisher=publisher,
        goal=None,
        currency=offer.currency,
        defaults={"advertiser_id": offer.advertiser_id, **values},
    )
    if not created:
        HourlyOfferStat.objects.filter(pk=cube.pk).update(**{k: F(k) + v for k, v in values.items()})


def source_rollup(
    offer: Offer, publisher: Publisher, source: str, *, hour: datetime | None = None, **counters: Any
) -> None:
    """Add counters to the hourly source cube, as the refresh does."""
    values = {k: Decimal(v) if k in ROLLUP_AMOUNTS else v for k, v in counters.items()}
    row, created = HourlySourceStat.objects.get_or_create(
        hour=floor_hour(hour or timezone.now()),
        offer=offer,
        publisher=publisher,
        goal=None,
        currency=offer.currency,
        source=source,
        defaults={"advertiser_id": offer.advertiser_id, **values},
    )
    if not created:
        HourlySourceStat.objects.filter(pk=row.pk).update(**{k: F(k) + v for k, v in values.items()})


@pytest.fixture
def make_rule(nadia: Any, nok_shoes: Offer) -> Callable[..., Rule]:
    """``make_rule(**fields)``: a rule saved by staff through the service (defaults: an alert on
    the shoes offer's CPC over 25 NOK in the last 24 hours, no minimum volume, no cooldown)."""

    def _make(**fields: Any) -> Rule:
        defaults: dict[str, Any] = {
            "name": "Stop-loss",
            "scope": "offer",
            "offer": nok_shoes,
            "metric": "cpc",
            "comparison": "gt",
            "threshold": Decimal("25"),
            "action": "alert",
            "cooldown_minutes": 0,
            "notify": False,
        }
        return services.rule_create(actor=actor_for(nadia), created_by=nadia, **{**defaults, **fields})

    return _make


@pytest.fixture
def hero_test(nok_shoes: Offer) -> AbTest:
    """A running landing-page A/B test on the shoes offer: variants A (control) and B."""
    specs = [
        abtests.VariantSpec(
            label=label, landing_url=f"https://shoes.example.com/{label.lower()}?c={{click_id}}"
        )
        for label in ("A", "B")
    ]
    test = abtests.ab_test_create(
        actor=Actor(role=Role.STAFF),
        offer=nok_shoes,
        variants=specs,
        name="Hero image",
        hypothesis="A bigger hero image converts better.",
    )
    return abtests.ab_test_start(actor=Actor(role=Role.STAFF), test=test)


def variant_day(
    variant: AbVariant, *, clicks: int, conversions: int, revenue: str = "0", days_ago: int = 0
) -> None:
    """A UTC day's row of the variant's daily rollup, as the A/B tests' tick writes it."""
    AbVariantDaily.objects.create(
        variant=variant,
        day=timezone.now().date() - timedelta(days=days_ago),
        clicks=clicks,
        conversions=conversions,
        currency=variant.test.offer.currency,
        revenue=Decimal(revenue),
    )


@pytest.fixture
def summer_link(nok_shoes: Offer, pixelpush: Publisher, acme: Any) -> SmartLink:
    """PixelPush's manual smart link: a path to the shoes offer and a catch-all to a second offer."""
    other = f.OfferFactory(advertiser=acme, name="Acme Tents")
    for offer in (nok_shoes, other):
        f.OfferAccessFactory(offer=offer, publisher=pixelpush, status="approved")
    paths = [
        PathSpec(offer=nok_shoes, label="shoes", weight=60),
        PathSpec(offer=other, label="tents", weight=40, is_catch_all=True),
    ]
    return smart_link_create(actor=Actor(role=Role.STAFF), publisher=pixelpush, name="Summer", paths=paths)


def path_day(path: Any, *, clicks: int, conversions: int, revenue: str = "0", days_ago: int = 0) -> None:
    """A UTC day's row of the path's daily rollup, as the smart links' tick writes it."""
    SmartPathDaily.objects.create(
        path=path,
        day=timezone.now().date() - timedelta(days=days_ago),
        clicks=clicks,
        conversions=conversions,
        currency=path.offer.currency,
        revenue=Decimal(revenue),
    )
