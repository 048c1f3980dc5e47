"""Thirty days of believable synthetic traffic for the demo network, so portals look alive.

``demo_traffic_generate`` writes clicks, impressions, conversions (pending, approved, rejected
and reversed, each with its status events) and their commissions for every approved
offer x publisher link of active offers, then builds the report rollups. It is idempotent
per UTC day: a day is written in one transaction, and a day whose first deterministic click
id already exists is skipped, so running it twice adds nothing.

Commissions are priced with affiliates.pricing (custom payouts included) and rounded once with
money_round, and their conversions are marked reconciled, so payouts' reconciliation does not
create them again. Ledger postings are left to payouts (see the integrator's seed_demo).
"""

from __future__ import annotations

import hashlib
import math
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from affiliates.models import CustomPayout, Goal, Offer, OfferAccess
from affiliates.pricing import Price, price_pick
from payouts.models import Commission
from payouts.money import money_round
from tracking.models import Click, Conversion, ConversionEvent, Impression
from tracking.reports.services import rollups_rebuild_all

COUNTRIES = ["US", "US", "US", "GB", "DE", "CA", "FR", "AU", "IN", "BR"]
DEVICES = [
    ("mobile", "iOS"),
    ("mobile", "Android"),
    ("mobile", "Android"),
    ("desktop", "Windows"),
    ("desktop", "macOS"),
    ("tablet", "iPadOS"),
]
SUB1 = ["fb_feed", "ig_story", "newsletter", "seo_blog", "tiktok", "push"]
# Share of the day's clicks per UTC hour: quiet at night, busy in the (US) evening.
HOURLY = [math.exp(-(((h - 19) % 24 - 6) ** 2) / 40) + 0.15 for h in range(24)]
CONVERSION_RATE = {"cps": 0.035, "cpa": 0.03, "cpi": 0.05, "cpl": 0.08}


@dataclass(frozen=True)
class DemoTrafficResult:
    days_written: int
    days_skipped: int
    clicks: int
    conversions: int


def _det_click_id(seed: int, day: date, n: int, at: datetime) -> uuid.UUID:
    """A UUIDv7 whose random bits come from (seed, day, n): the same click on every run."""
    digest = int.from_bytes(hashlib.sha256(f"{seed}:{day.isoformat()}:{n}".encode()).digest()[:10], "big")
    ms = int(at.timestamp() * 1000)
    value = (
        (ms & ((1 << 48) - 1)) << 80
        | 0x7 << 76
        | ((digest >> 62) & 0xFFF) << 64
        | 0b10 << 62
        | (digest & ((1 << 62) - 1))
    )
    return uuid.UUID(int=value)


def _status(rng: random.Random, age_days: float, hold_days: int) -> list[str]:
    """The status history of a conversion of this age: older ones have been decided."""
    if age_days < max(hold_days, 3) and rng.random() < 0.7:
        return ["pending"]
    roll = rng.random()
    if roll < 0.08:
        return ["pending", "rejected"]
    if roll < 0.13:
        return ["pending", "approved", "reversed"]
    return ["pending", "approved"]


class _Day:
    """Writes one day of one link's traffic into lists; ``flush`` saves them."""

    def __init__(self, rng: random.Random, seed: int, day: date, now: datetime) -> None:
        self.rng, self.seed, self.day, self.now = rng, seed, day, now
        self.clicks: list[Click] = []
        self.impressions: list[Impression] = []
        self.conversions: list[tuple[Conversion, list[str], Goal, Price]] = []

    def link(self, access: OfferAccess, goals: list[Goal], customs: list[CustomPayout], volume: int) -> None:
        rng, offer = self.rng, access.offer
        start = datetime.combine(self.day, time.min, tzinfo=UTC)
        for hour, weight in enumerate(HOURLY):
            for _ in range(int(volume * weight / sum(HOURLY) + rng.random())):
                at = start + timedelta(hours=hour, seconds=rng.randrange(3600))
                if at > self.now:
                    continue
                self._click(access, offer, at, goals, customs)
            for _ in range(int(volume * weight / sum(HOURLY) * 6)):
                at = start + timedelta(hours=hour, seconds=rng.randrange(3600))
                if at <= self.now:
                    self.impressions.append(self._traffic(Impression, access, at))

    def _traffic(self, model: type, access: OfferAccess, at: datetime) -> Any:
        rng = self.rng
        device, os_name = rng.choice(DEVICES)
        return model(
            created_at=at,
            offer_id=access.offer_id,
            publisher_id=access.publisher_id,
            country=rng.choice(COUNTRIES),
            device=device,
            os=os_name,
            sub1=rng.choice(SUB1),
            sub2=f"cr{rng.randrange(1, 6)}",
            source=f"src{rng.randrange(1, 4)}",
        )

    def _click(
        self, access: OfferAccess, offer: Offer, at: datetime, goals: list[Goal], customs: list[CustomPayout]
    ) -> None:
        rng = self.rng
        click = self._traffic(Click, access, at)
        assert isinstance(click, Click)
        click.id = _det_click_id(self.seed, self.day, len(self.clicks), at)
        click.is_unique = rng.random() < 0.78
        click.reason = "geo_mismatch" if rng.random() < 0.03 else ""
        click.fraud_flags = ["datacenter_ip"] if rng.random() < 0.02 else []
        self.clicks.append(click)
        if click.reason:
            return
        for goal in goals:
            if rng.random() >= CONVERSION_RATE.get(goal.payout_type, 0):
                continue
            converted = at + timedelta(minutes=rng.expovariate(1 / 45))
            if converted > self.now:
                continue
            amount = (
                Decimal(rng.randrange(1500, 25000)) / 100 if goal.payout_type == Goal.PayoutType.CPS else None
            )
            history = _status(rng, (self.now - converted).total_seconds() / 86400, offer.hold_days)
            conversion = Conversion(
                created_at=converted,
                offer_id=offer.id,
                publisher_id=access.publisher_id,
                goal_id=goal.id,
                click_id=click.id,
                click_time=at,
                txn_id=f"demo-{click.id.hex[:20]}-{goal.code}",
                status=history[-1],
                amount=amount,
                currency=offer.currency if amount is not None else "",
                country=click.country,
                sub1=click.sub1,
                sub2=click.sub2,
                source_id=click.source,
                fraud_flags=["velocity"] if rng.random() < 0.03 else [],
                reason="advertiser_rejected" if history[-1] == "rejected" else "",
                reconciled_at=converted,
                trace={"demo": True, "click_id": click.id.hex},
            )
            self.conversions.append(
                (conversion, history, goal, price_pick(goal=goal, customs=customs, country=click.country))
            )


def _commission(
    conversion: Conversion, history: list[str], goal: Goal, price: Price, offer: Offer
) -> Commission | None:
    if history[-1] == "rejected":
        return None
    payout, revenue = price.amounts(conversion.amount)
    decided = conversion.created_at + timedelta(days=max(offer.hold_days, 3))
    return Commission(
        source_key=f"conversion:{conversion.pk}",
        kind=Commission.Kind.CONVERSION,
        conversion=conversion,
        advertiser_id=offer.advertiser_id,
        offer_id=offer.id,
        publisher_id=conversion.publisher_id or 0,
        goal_id=goal.id,
        day=conversion.created_at.date(),
        status=history[-1],
        currency=offer.currency,
        revenue=money_round(revenue, offer.currency),
        payout=money_round(payout, offer.currency),
        sale_amount=conversion.amount,
        price_source=price.source,
        hold_until=conversion.created_at + timedelta(days=offer.hold_days),
        approved_at=decided if "approved" in history else None,
        reversed_at=decided + timedelta(days=2) if history[-1] == "reversed" else None,
        created_at=conversion.created_at,
        updated_at=conversion.created_at,
    )


def _events(conversion: Conversion, history: list[str], offer: Offer) -> list[ConversionEvent]:
    events, previous = [], ""
    for step, status in enumerate(history):
        at = conversion.created_at + timedelta(days=step * max(offer.hold_days, 3))
        reason = {"rejected": "duplicate order", "reversed": "refund"}.get(status, "")
        events.append(
            ConversionEvent(
                conversion=conversion,
                created_at=at,
                from_status=previous,
                to_status=status,
                reason=reason,
                actor="postback" if step == 0 else f"advertiser:{offer.advertiser_id}",
            )
        )
        previous = status
    return events


def _flush(day: _Day, offers: dict[int, Offer]) -> None:
    Click.objects.bulk_create(day.clicks, batch_size=2000)
    Impression.objects.bulk_create(day.impressions, batch_size=2000)
    Conversion.objects.bulk_create([c for c, *_ in day.conversions], batch_size=1000)
    commissions, events = [], []
    for conversion, history, goal, price in day.conversions:
        offer = offers[conversion.offer_id or 0]
        commission = _commission(conversion, history, goal, price, offer)
        if commission is not None:
            commissions.append(commission)
        events.extend(_events(conversion, history, offer))
    Commission.objects.bulk_create(commissions, batch_size=1000)
    ConversionEvent.objects.bulk_create(events, batch_size=2000)


def demo_traffic_generate(
    *, days: int = 30, seed: int = 20240601, clicks_per_link_per_day: int = 160, now: datetime | None = None
) -> DemoTrafficResult:
    """Write ``days`` UTC days of traffic ending today (up to ``now``) and build the rollups."""
    now = now or timezone.now()
    accesses = list(
        OfferAccess.objects.filter(status=OfferAccess.Status.APPROVED, offer__status=Offer.Status.ACTIVE)
        .select_related("offer")
        .order_by("id")
    )
    offers = {a.offer_id: a.offer for a in accesses}
    goals: dict[int, list[Goal]] = {}
    for goal in Goal.objects.filter(offer_id__in=offers).order_by("id"):
        goals.setdefault(goal.offer_id, []).append(goal)
    customs = list(CustomPayout.objects.filter(offer_id__in=offers))
    written = skipped = clicks = conversions = 0
    first_day = now.date() - timedelta(days=days - 1)
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        rng = random.Random(f"{seed}:{day.isoformat()}")
        batch = _Day(rng, seed, day, now)
        trend = 0.7 + 0.3 * offset / max(days - 1, 1)
        weekend = 0.8 if day.weekday() >= 5 else 1.0
        for access in accesses:
            mine = [
                c for c in customs if c.offer_id == access.offer_id and c.publisher_id == access.publisher_id
            ]
            volume = int(clicks_per_link_per_day * trend * weekend * (0.5 + (access.id * 7919 % 100) / 100))
            batch.link(
                access,
                [g for g in goals.get(access.offer_id, []) if g.payout_type not in ("cpc", "cpm")],
                mine,
                volume,
            )
        if not batch.clicks:
            continue
        with transaction.atomic():
            if Click.objects.filter(id=batch.clicks[0].id).exists():
                skipped += 1
                continue
            _flush(batch, offers)
        written += 1
        clicks += len(batch.clicks)
        conversions += len(batch.conversions)
    if written:
        rollups_rebuild_all(start=datetime.combine(first_day, time.min, tzinfo=UTC), end=now)
    return DemoTrafficResult(
        days_written=written, days_skipped=skipped, clicks=clicks, conversions=conversions
    )
