"""A seeded random traffic writer for report tests: raw rows written directly, as the click
endpoint, the postback and reconciliation would leave them."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from affiliates.core.money import money_round
from affiliates.models import Goal, Offer, Publisher
from payouts.models import Commission, CommissionShare
from tracking.ids import new_click_id
from tracking.models import Click, Conversion, Impression

COUNTRIES = ["US", "DE", "IN", ""]
DEVICES = ["desktop", "mobile", "tablet", ""]
SUBS = ["", "fb", "tt", "news", "ü-ñ"]
STATUSES = ["pending", "approved", "rejected", "reversed"]
# Traffic sources, taken in turn (not drawn: the seeded draws of the other fields stay as they were).
SOURCES = ["", "feed-a", "feed-b"]


def _sub(rng: random.Random) -> str:
    return rng.choice(SUBS)


def traffic_write(
    *,
    seed: int,
    offers: Sequence[Offer],
    publishers: Sequence[Publisher],
    start: datetime,
    hours: int,
    clicks: int = 120,
    impressions: int = 60,
    conversions: int = 40,
) -> list[Conversion]:
    """Write random traffic in [start, start + hours). Returns the conversions written."""
    rng = random.Random(seed)
    span = hours * 3600

    def at() -> datetime:
        return start + timedelta(seconds=rng.randrange(span), microseconds=rng.randrange(1_000_000))

    click_rows = []
    for i in range(clicks):
        created = at()
        click_rows.append(
            Click(
                id=new_click_id(int(created.timestamp() * 1000)),
                created_at=created,
                offer=rng.choice(offers),
                publisher=rng.choice(publishers),
                country=rng.choice(COUNTRIES),
                device=rng.choice(DEVICES),
                sub1=_sub(rng),
                sub2=_sub(rng),
                sub3=_sub(rng),
                source=SOURCES[i % len(SOURCES)],
                is_unique=rng.random() < 0.7,
                reason=rng.choice(["", "", "", "geo_mismatch"]),
                fraud_flags=rng.choice(
                    [[], [], [], ["datacenter_ip"], ["bot_user_agent", "click_flood"], ["invalidated"]]
                ),
            )
        )
    Click.objects.bulk_create(click_rows)
    Impression.objects.bulk_create(
        Impression(
            created_at=at(),
            offer=rng.choice(offers),
            publisher=rng.choice(publishers),
            country=rng.choice(COUNTRIES),
            device=rng.choice(DEVICES),
            sub1=_sub(rng),
            sub2=_sub(rng),
            is_unique=rng.random() < 0.8,
            fraud_flags=rng.choice([[], [], ["bot_user_agent"]]),
        )
        for _ in range(impressions)
    )
    written = []
    for n in range(conversions):
        click = rng.choice(click_rows) if rng.random() < 0.8 else None
        offer = click.offer if click else rng.choice(offers)
        goal = rng.choice(list(offer.goals.all()))
        publisher = click.publisher if click else rng.choice(publishers)
        amount = Decimal(rng.randrange(100, 50000)) / 100 if goal.payout_type == Goal.PayoutType.CPS else None
        conversion = Conversion.objects.create(
            created_at=(click.created_at + timedelta(minutes=rng.randrange(0, 90))) if click else at(),
            offer=offer,
            publisher=publisher,
            goal=goal,
            click=click,
            txn_id=f"t{seed}-{n}",
            status=rng.choice(STATUSES),
            amount=amount,
            currency=offer.currency,
            country=click.country if click else rng.choice(COUNTRIES),
            sub1=click.sub1 if click else "",
            sub2=click.sub2 if click else "",
            source_id=click.source if click else "",
            fraud_flags=rng.choice([[], [], ["velocity"]]),
            held_for_review=rng.random() < 0.1,
        )
        written.append(conversion)
        if conversion.status != "rejected" or rng.random() < 0.3:
            commission_for(conversion)
    return written


def commission_for(conversion: Conversion, status: str | None = None) -> Commission:
    goal = conversion.goal
    assert goal is not None
    assert conversion.offer is not None
    if goal.payout_type == Goal.PayoutType.CPS:
        base = conversion.amount or Decimal(0)
        payout, revenue = base * goal.payout / 100, base * goal.revenue / 100
    else:
        payout, revenue = goal.payout, goal.revenue
    currency = conversion.offer.currency
    return Commission.objects.create(
        source_key=f"conversion:{conversion.pk}",
        kind=Commission.Kind.CONVERSION,
        conversion=conversion,
        advertiser_id=conversion.offer.advertiser_id,
        offer=conversion.offer,
        publisher=conversion.publisher,
        goal=goal,
        day=conversion.created_at.date(),
        status=status or conversion.status,
        currency=currency,
        revenue=money_round(revenue, currency),
        payout=money_round(payout, currency),
        sale_amount=conversion.amount,
    )


def cpc_line(*, offer: Offer, publisher: Publisher, goal: Goal, day: datetime, clicks: int) -> Commission:
    """A CPC line as reconciliation writes it, with one share (its clicks carried no sub ids)."""
    currency = offer.currency
    line = Commission.objects.create(
        source_key=f"cpc:{offer.pk}:{publisher.pk}:{goal.pk}:{day.date().isoformat()}",
        kind=Commission.Kind.CPC,
        advertiser_id=offer.advertiser_id,
        offer=offer,
        publisher=publisher,
        goal=goal,
        day=day.date(),
        quantity=clicks,
        status="approved",
        currency=currency,
        revenue=money_round(goal.revenue * clicks, currency),
        payout=money_round(goal.payout * clicks, currency),
    )
    CommissionShare.objects.create(commission=line, quantity=clicks, revenue=line.revenue, payout=line.payout)
    return line
