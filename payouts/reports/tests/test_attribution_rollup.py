"""The daily rollups the attribution reports read equal the raw touches they sum: for seeded
random journeys, after a partial refresh of some days, and through the journey job itself."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from affiliates.models import Offer
from affiliates.roles import Actor, Role
from affiliates.tests import factories as f
from payouts.journeys.services import journeys_refresh
from payouts.journeys.tests.journey_story import AS_OF, three_touches
from payouts.reports.attribution.selectors import GROUPS, SCOPES, Filters, attribution_compare, participation
from tracking.journeys.rollup import rollup_refresh
from tracking.models import AttributionDay, Journey, ParticipationDay, Touch
from tracking.models.journeys import MODELS, TouchKind, TouchRole

pytestmark = pytest.mark.django_db
D = Decimal
FIRST = date(2026, 3, 1)
DAYS = 10


def _credits(rng: random.Random, n: int) -> list[Decimal]:
    """n credits of 10 places summing to 1, the last taking the rounding (as the job does)."""
    weights = [rng.random() + 0.01 for _ in range(n)]
    total = sum(weights)
    shares = [D(w / total).quantize(D("1E-10")) for w in weights[:-1]]
    return [*shares, D(1) - sum(shares, D(0))]


def _journeys(
    rng: random.Random, offers: list[Offer], publishers: list[Any], days: list[date], n: int
) -> None:
    for _ in range(n):
        offer = rng.choice(offers)
        day = rng.choice(days)
        at = datetime(day.year, day.month, day.day, rng.randrange(24), tzinfo=UTC)
        revenue = D(rng.randrange(1, 100_000)) / 100
        payout = (revenue * D(rng.choice(["0.3", "0.5", "0.75"]))).quantize(D("0.000001"))
        size = rng.choice([1, 1, 2, 3, 4, 6])
        path = [rng.choice(publishers) for _ in range(size)]
        journey = Journey.objects.create(
            conversion_id=rng.randrange(1, 10**9),
            advertiser_id=offer.advertiser_id,
            offer=offer,
            publisher=path[-1],
            converted_at=at,
            day=day,
            currency=offer.currency,
            revenue=revenue,
            payout=payout,
            view_through=rng.random() < 0.2,
            touches=size,
            publishers=len(set(path)),
        )
        columns = {model: _credits(rng, size) for model in MODELS}
        Touch.objects.bulk_create(
            Touch(
                journey=journey,
                advertiser_id=offer.advertiser_id,
                offer=offer,
                day=day,
                currency=offer.currency,
                revenue=revenue,
                payout=payout,
                view_through=journey.view_through,
                position=i + 1,
                kind=TouchKind.CLICK,
                at=at - timedelta(hours=size - i),
                publisher=publisher,
                sub1=rng.choice(["", "blog", "deal"]),
                source=rng.choice(["", "src1", "src2"]),
                creative=rng.choice(["", "banner"]),
                linked_by="visitor",
                role=TouchRole.INTRODUCER
                if i == 0 and size > 1
                else TouchRole.CLOSER
                if i == size - 1
                else TouchRole.INFLUENCER,
                **{model: values[i] for model, values in columns.items()},
            )
            for i, publisher in enumerate(path)
        )


@pytest.fixture
def world(db: Any) -> dict[str, Any]:
    advertisers = [f.AdvertiserFactory(), f.AdvertiserFactory(currency="EUR")]
    offers = [f.OfferFactory(advertiser=a, currency=a.currency) for a in advertisers for _ in range(2)]
    publishers = [f.PublisherFactory() for _ in range(5)]
    return {"advertisers": advertisers, "offers": offers, "publishers": publishers}


def _actors(world: dict[str, Any]) -> list[Actor]:
    return [
        Actor(role=Role.STAFF, user_id=0),
        Actor(role=Role.ADVERTISER, user_id=0, advertiser_id=world["advertisers"][1].pk),
        Actor(role=Role.PUBLISHER, user_id=0, publisher_id=world["publishers"][0].pk),
    ]


def _assert_reports_equal(world: dict[str, Any], start: date, end: date) -> int:
    """Every report the rollups serve equals the raw-touch report; returns the rows compared."""
    compared = 0
    offer = world["offers"][2]
    for actor in _actors(world):
        for sc in SCOPES:
            for filters in (
                Filters(start=start, end=end, scope=sc),
                Filters(start=start + timedelta(days=2), end=end - timedelta(days=3), scope=sc),
                Filters(start=start, end=end, scope=sc, offer=offer.pk, advertiser=offer.advertiser_id),
                Filters(start=start, end=end, scope=sc, publisher=world["publishers"][1].pk),
            ):
                for by in GROUPS:
                    rolled = attribution_compare(actor=actor, filters=filters, by=by)
                    raw = attribution_compare(actor=actor, filters=filters, by=by, from_touches=True)
                    assert rolled == raw, (actor, filters, by)
                    compared += len(raw)
                for model in MODELS:
                    rolled = participation(actor=actor, filters=filters, model=model)
                    raw = participation(actor=actor, filters=filters, model=model, from_touches=True)
                    assert rolled == raw, (actor, filters, model)
                    compared += len(raw)
    return compared


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_rollup_reports_equal_the_raw_touch_reports_for_random_journeys(world, seed) -> None:
    rng = random.Random(seed)
    days = [FIRST + timedelta(days=i) for i in range(DAYS)]
    _journeys(rng, world["offers"], world["publishers"], days, 120)
    rollup_refresh(first_day=FIRST, last_day=days[-1])
    assert AttributionDay.objects.exists()
    assert ParticipationDay.objects.exists()
    assert _assert_reports_equal(world, FIRST, days[-1]) > 100

    # A partial refresh: days 4-6 are replaced (journeys gone, new ones), the rest are kept.
    changed = days[4:7]
    Journey.objects.filter(day__in=changed[:2]).delete()
    _journeys(rng, world["offers"], world["publishers"], changed, 40)
    rollup_refresh(first_day=changed[0], last_day=changed[-1])
    assert _assert_reports_equal(world, FIRST, days[-1]) > 100
    staff = Actor(role=Role.STAFF, user_id=0)
    totals = participation(actor=staff, filters=Filters(start=FIRST, end=days[-1]))
    assert sum(r["closer"] for r in totals) == Journey.objects.filter(view_through=False).count()


def test_rows_read_past_djangos_converters_equal_the_converted_rows(world) -> None:
    """db_rows (straight from the cursor where the driver gives Decimal) reads the cube's sums as
    the ORM does: same types, same values, on either database."""
    from django.db.models import Sum

    from affiliates.core.db import db_rows
    from tracking.models import AttributionCube

    rng = random.Random(7)
    _journeys(rng, world["offers"], world["publishers"], [FIRST, FIRST + timedelta(days=1)], 30)
    rollup_refresh(first_day=FIRST, last_day=FIRST + timedelta(days=1))
    sums = {f"{m}_{a}": Sum(f"{m}_{a}") for m in MODELS for a in ("revenue", "payout")} | {
        m: Sum(m) for m in MODELS
    }
    grouped = (
        AttributionCube.objects.filter(dimension="sub1")
        .values("publisher_id", "value", "currency")
        .annotate(**{f"s_{k}": v for k, v in sums.items()})
        .order_by("publisher_id", "value", "currency")
        .values_list("publisher_id", "value", "currency", *(f"s_{k}" for k in sums))
    )
    converted = list(grouped)
    assert len(converted) > 5
    raw = db_rows(grouped)
    assert raw == converted
    assert [tuple(map(type, r)) for r in raw] == [tuple(map(type, r)) for r in converted]
    assert {type(v) for r in raw for v in r[3:]} == {Decimal}


def test_the_job_keeps_the_rollup_equal_to_its_touches_over_a_partial_window(
    shoes: Offer, pixelpush: Any, rival: Any
) -> None:
    beta = f.PublisherFactory(name="Beta Deals")
    three_touches(shoes, rival, beta, pixelpush)
    journeys_refresh(as_of=AS_OF, days=3)
    staff = Actor(role=Role.STAFF, user_id=0)
    filters = Filters(start=AS_OF.date() - timedelta(days=5), end=AS_OF.date())
    full = attribution_compare(actor=staff, filters=filters)
    assert full == attribution_compare(actor=staff, filters=filters, from_touches=True)
    assert [r["models"]["linear"]["conversions"] for r in full] == [D("0.33"), D("0.33"), D("0.33")]
    journeys_refresh(as_of=AS_OF, days=1)  # the hourly run: only the last day again
    assert attribution_compare(actor=staff, filters=filters) == full
    assert participation(actor=staff, filters=filters) == participation(
        actor=staff, filters=filters, from_touches=True
    )
