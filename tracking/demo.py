"""Believable synthetic traffic for the demo network: raw events only, as tracking records them.

``demo_traffic_generate`` writes, for every approved link (offer x publisher) of a running offer,
each UTC day of a window: clicks (a share not unique, refused for geo or sent to a paused
offer's fallback, flagged by the click path), impressions, and the conversions advertisers
posted for some clicks. A conversion is stored the way ``tracking.conversions.services``
stores one: pending, approved or rejected as the advertiser asked at intake, held for review
when a fraud rule fires on its click, with its trace, and **unreconciled**; it gets no
commission here. Money is payouts' business: its reconciliation turns conversions into
commissions and clicks and impressions into CPC/CPM daily lines (see payouts.demo).

Deterministic: a link's day depends only on the seed, the date and the link, never on the
window or on when it runs, and so do its click ids. Idempotent per UTC day: a day is written
in one transaction, and a day whose clicks already exist is skipped, so running it twice adds
nothing. Today is written up to ``now`` and then counts as done.
"""

from __future__ import annotations

import hashlib
import math
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from affiliates.core.money import money_round
from affiliates.models import CustomPayout, Goal, Offer, OfferAccess
from affiliates.pricing import price_pick
from tracking.clickpath.writer import records_write
from tracking.conversions.customers import customer_hash
from tracking.conversions.fraud import RULES
from tracking.ids import new_click_id
from tracking.models import Click, Conversion

DEFAULT_SEED = 20240601
DEFAULT_CLICKS = 10  # per link per day, on average: a small network, fast to seed
COUNTRIES = ["US", "US", "US", "GB", "DE", "CA", "FR", "AU", "IN", "BR"]
# (device, os, user agent) as the click path's ua_facts names them.
DEVICES = [
    ("mobile", "ios", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Mobile/15E148 Safari/604.1"),
    ("mobile", "android", "Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/126.0 Mobile Safari/537.36"),
    ("mobile", "android", "Mozilla/5.0 (Linux; Android 13; SM-S918B) Chrome/125.0 Mobile Safari/537.36"),
    ("desktop", "windows", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0 Safari/537.36"),
    ("desktop", "macos", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Version/17.5 Safari/605.1.15"),
    ("tablet", "ios", "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) Mobile/15E148 Safari/604.1"),
]
OFF_TARGET = ["IN", "BR", "NG", "VN"]  # where geo-targeted offers' refused clicks come from
SUB1 = ["fb_feed", "ig_story", "newsletter", "seo_blog", "tiktok", "push"]
IP_PREFIXES = ["203.0.113", "198.51.100", "192.0.2"]  # documentation ranges, never real visitors
HOUR_MS = 3_600_000
# Share of a day's clicks per UTC hour: quiet at night, busy in the (US) evening.
_WAVE = [math.exp(-(((h - 19) % 24 - 6) ** 2) / 40) + 0.15 for h in range(24)]
HOURLY = [w / sum(_WAVE) for w in _WAVE]
# Conversions per redirected unique click, for a link's first goal; later goals convert less.
CONVERSION_RATE = {"cps": 0.04, "cpa": 0.035, "cpi": 0.06, "cpl": 0.08}
# Impressions are counted where a publisher shows the offer's banner with its impression pixel:
# the display (CPM) offers. Other offers are text links and coupons, with no impressions.
IMPRESSIONS_PER_CLICK = {"cpm": 12.0}
TXN_PREFIX = {"cps": "ORD", "cpa": "SUB", "cpl": "LEAD"}


@dataclass(frozen=True)
class DemoTrafficResult:
    days_written: int
    days_skipped: int
    clicks: int
    impressions: int
    conversions: int
    first_day: date
    last_day: date


@dataclass
class _Link:
    access: OfferAccess
    offer: Offer
    goals: list[Goal]  # the goals a postback can report (not CPC/CPM)
    customs: list[CustomPayout]
    main_type: str  # payout type of the default goal, for the impression ratio
    devices: list[tuple[str, str, str]]  # those the offer's device and OS targeting accept

    @property
    def weight(self) -> float:
        """A fixed 0.5-1.5 size per link: some publishers send far more than others."""
        return 0.5 + _unit(f"w:{self.access.offer_id}:{self.access.publisher_id}")


@dataclass
class _Batch:
    clicks: list[dict[str, Any]] = field(default_factory=list)
    impressions: list[dict[str, Any]] = field(default_factory=list)
    conversions: list[Conversion] = field(default_factory=list)
    markers: list[str] = field(default_factory=list)  # each link's first click id of the day


def _unit(key: str) -> float:
    """A stable number in [0, 1) for ``key`` (Python's hash() changes between processes)."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:6], "big") / float(1 << 48)


#: Shoppers per advertiser in the demo: few enough that a month of sales has returning customers.
DEMO_CUSTOMERS = 80


def _demo_customer(offer: Offer, goal: Goal, click_id: uuid.UUID) -> str | None:
    """A sale's customer id, hashed as the postback intake stores it (no rng draw, so the rest of
    the demo stays as it was). Only sales name a customer, as shops' postbacks do."""
    if goal.payout_type != Goal.PayoutType.CPS:
        return None
    shopper = int(_unit(f"customer:{click_id.hex}") * DEMO_CUSTOMERS)
    return customer_hash(key=offer.advertiser.customer_key, customer_id=f"shopper-{shopper}@example.com")


def _det_click_id(key: str, ms: int) -> uuid.UUID:
    """A UUIDv7 of millisecond ``ms`` whose random bits come from ``key``: the same click id
    on every run (tracking.ids.new_click_id's layout)."""
    digest = int.from_bytes(hashlib.sha256(key.encode()).digest()[:10], "big")
    value = (
        (ms & ((1 << 48) - 1)) << 80
        | 0x7 << 76
        | ((digest >> 62) & 0xFFF) << 64
        | 0b10 << 62
        | (digest & ((1 << 62) - 1))
    )
    return uuid.UUID(int=value)


def _day_factor(day: date) -> float:
    """Weekends are quieter; a slow wave keeps the daily chart from looking flat."""
    weekend = 0.8 if day.weekday() >= 5 else 1.0
    return weekend * (1 + 0.15 * math.sin(day.toordinal() / 4.0))


class _LinkDay:
    """One link's traffic of one UTC day, drawn from its own random stream.

    Clicks and impressions are click-path records (tracking.clickpath.handler's shape), for
    the click path's own writer; conversions are model instances."""

    def __init__(self, link: _Link, day: date, seed: int, volume: float) -> None:
        self.link, self.day = link, day
        self.stream = f"{seed}:{day.isoformat()}:{link.access.offer_id}:{link.access.publisher_id}"
        self.rng = random.Random(self.stream)
        self.volume = volume
        self.clicks: list[dict[str, Any]] = []
        self.impressions: list[dict[str, Any]] = []
        self.conversions: list[Conversion] = []

    def draw(self) -> None:
        rng = self.rng
        start_ms = int(datetime.combine(self.day, time.min, tzinfo=UTC).timestamp() * 1000)
        ratio = IMPRESSIONS_PER_CLICK.get(self.link.main_type, 0.0)
        for hour, share in enumerate(HOURLY):
            hour_ms = start_ms + hour * HOUR_MS
            for _ in range(int(self.volume * share + rng.random())):
                self._click(hour_ms + rng.randrange(HOUR_MS))
            for _ in range(int(self.volume * share * ratio + rng.random())):
                at_ms = hour_ms + rng.randrange(HOUR_MS)
                self.impressions.append(self._visit("i", new_click_id(at_ms).hex, at_ms))

    def _visit(self, kind: str, record_id: str, at_ms: int) -> dict[str, Any]:
        rng, offer = self.rng, self.link.offer
        device, os_name, user_agent = rng.choice(self.link.devices)
        return {
            "kind": kind,
            "id": record_id,
            "created_at": at_ms,
            "offer_id": offer.id,
            "publisher_id": self.link.access.publisher_id,
            "ip": f"{rng.choice(IP_PREFIXES)}.{rng.randrange(1, 255)}",
            "user_agent": user_agent,
            "country": rng.choice(offer.target_countries or COUNTRIES),
            "device": device,
            "os": os_name,
            "sub1": rng.choice(SUB1),
            "sub2": f"cr{rng.randrange(1, 6)}",
            "source": f"src{rng.randrange(1, 4)}",
        }

    def _click(self, at_ms: int) -> None:
        rng, offer = self.rng, self.link.offer
        click_id = _det_click_id(f"{self.stream}:{len(self.clicks)}", at_ms)
        click = self._visit("c", click_id.hex, at_ms)
        click.update(is_unique=rng.random() < 0.85, reason="", fallback_offer_id=None, referer="")
        if offer.status == Offer.Status.PAUSED:
            click.update(reason="offer_paused", fallback_offer_id=offer.fallback_offer_id)
        elif offer.target_countries and rng.random() < 0.03:
            click.update(reason="geo_mismatch", country=rng.choice(OFF_TARGET))
        flags_roll = rng.random()
        click["fraud_flags"] = (
            ["datacenter_ip"] if flags_roll < 0.015 else ["click_flood"] if flags_roll < 0.02 else []
        )
        self.clicks.append(click)
        if click["reason"]:
            return
        for rank, goal in enumerate(self.link.goals):
            rate = CONVERSION_RATE[goal.payout_type] * (1 if rank == 0 else 0.35)
            if not click["is_unique"]:
                rate *= 0.3  # refreshes and repeat visits rarely buy
            if rng.random() < rate:
                # Within a day of the click, so a day's conversions are all recorded by the end
                # of the next day (payouts.demo reconciles day by day).
                minutes = min(rng.expovariate(1 / 45), 600) if rank == 0 else rng.uniform(60, 1200)
                self.conversions.append(
                    self._conversion(click_id, click, goal, _at(at_ms) + timedelta(minutes=minutes))
                )

    def _conversion(self, click_id: uuid.UUID, click: dict[str, Any], goal: Goal, at: datetime) -> Conversion:
        """A conversion as the postback intake stores it (tracking.conversions.services)."""
        rng, offer = self.rng, self.link.offer
        rules = _rules_fired(click)
        amount = (
            Decimal(rng.randrange(1500, 25000)) / 100 if goal.payout_type == Goal.PayoutType.CPS else None
        )
        status, reason = _intake_status(rng.random(), goal.payout_type, held=bool(rules))
        prefix = TXN_PREFIX.get(goal.payout_type)
        txn_id = f"{prefix}-{click_id.hex[-10:].upper()}" if prefix else ""
        price = price_pick(goal=goal, customs=self.link.customs, country=click["country"])
        payout, revenue = price.amounts(amount)
        return Conversion(
            created_at=at,
            source=Conversion.Source.POSTBACK,
            advertiser_id=offer.advertiser_id,
            offer_id=offer.id,
            publisher_id=click["publisher_id"],
            goal_id=goal.id,
            click_id=click_id,
            click_time=_at(click["created_at"]),
            txn_id=txn_id,
            dedupe_key=None if txn_id or goal.allow_multiple else f"{click_id.hex}:{goal.id}",
            status=status,
            reason=reason,
            amount=amount,
            currency=offer.currency,
            country=click["country"],
            sub1=click["sub1"],
            sub2=click["sub2"],
            source_id=click["source"],
            customer_hash=_demo_customer(offer, goal, click_id),
            fraud_flags=[r for r, _ in rules],
            held_for_review=bool(rules),
            trace={
                "request": {"txn_id": txn_id, "goal": goal.code, "amount": str(amount) if amount else None},
                "attribution": {"model": offer.attribution_model, "by": "click_id", "click_id": click_id.hex},
                "goal": {"id": goal.id, "code": goal.code, "payout_type": goal.payout_type},
                "price": {
                    "source": price.source,
                    "payout": str(money_round(payout, offer.currency)),
                    "revenue": str(money_round(revenue, offer.currency)),
                    "currency": offer.currency,
                },
                "rules_checked": list(RULES),
                "rules": [{"rule": r, "reason": why} for r, why in rules],
                "rejection": {"reason": reason, "detail": "posted as rejected"} if reason else None,
                "caps": [],
                "verdict": {"status": status, "reason": reason, "held_for_review": bool(rules)},
                "demo": True,
            },
        )


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def _rules_fired(click: dict[str, Any]) -> list[tuple[str, str]]:
    """The fraud rules tracking.conversions.fraud fires for a conversion through this click."""
    fired = []
    if "datacenter_ip" in click["fraud_flags"]:
        fired.append(("datacenter_asn", f"the click's IP {click['ip']} is in a datacenter network"))
    if not click["is_unique"]:
        fired.append(("duplicate_click", "the click was not unique within the offer's unique-click window"))
    if "click_flood" in click["fraud_flags"]:
        fired.append(("click_flood", "the click's IP sent too many clicks to this offer in an hour"))
    return sorted(fired, key=lambda f: RULES.index(f[0]))


def _intake_status(roll: float, payout_type: str, *, held: bool) -> tuple[str, str]:
    """What the advertiser posted: mostly nothing (pending); app installs arrive validated by
    the attribution partner; a few orders arrive already cancelled. Held ones stay pending."""
    if held:
        return "pending", ""
    if roll < 0.02:
        return "rejected", "advertiser_rejected"
    if roll < {"cpi": 0.4, "cps": 0.1}.get(payout_type, 0.0):
        return "approved", ""
    return "pending", ""


def _links() -> list[_Link]:
    accesses = list(
        OfferAccess.objects.filter(
            status=OfferAccess.Status.APPROVED, offer__status__in=[Offer.Status.ACTIVE, Offer.Status.PAUSED]
        )
        .select_related("offer__advertiser")
        .order_by("id")
    )
    goals: dict[int, list[Goal]] = {}
    for goal in Goal.objects.filter(offer_id__in={a.offer_id for a in accesses}).order_by(
        "-is_default", "id"
    ):
        goals.setdefault(goal.offer_id, []).append(goal)
    customs = list(CustomPayout.objects.filter(offer_id__in={a.offer_id for a in accesses}))
    return [
        _Link(
            access=a,
            offer=a.offer,
            goals=[g for g in goals.get(a.offer_id, []) if g.payout_type not in ("cpc", "cpm")],
            customs=[c for c in customs if c.offer_id == a.offer_id and c.publisher_id == a.publisher_id],
            main_type=goals[a.offer_id][0].payout_type if goals.get(a.offer_id) else "",
            devices=_devices_for(a.offer),
        )
        for a in accesses
    ]


def _devices_for(offer: Offer) -> list[tuple[str, str, str]]:
    fits = [
        d
        for d in DEVICES
        if (not offer.target_devices or d[0] in offer.target_devices)
        and (not offer.target_os or d[1] in offer.target_os)
    ]
    return fits or DEVICES


def _day_batch(links: list[_Link], day: date, seed: int, per_link: int, now: datetime) -> _Batch:
    batch = _Batch()
    now_ms = int(now.timestamp() * 1000)
    for link in links:
        volume = per_link * link.weight * _day_factor(day)
        if link.offer.status == Offer.Status.PAUSED:
            volume *= 0.1  # a few stale links still get clicked
        link_day = _LinkDay(link, day, seed, volume)
        link_day.draw()
        clicks = [c for c in link_day.clicks if c["created_at"] <= now_ms]
        batch.clicks += clicks
        batch.markers += [c["id"] for c in clicks[:1]]
        batch.impressions += [i for i in link_day.impressions if i["created_at"] <= now_ms]
        batch.conversions += [c for c in link_day.conversions if c.created_at <= now]
    # Conversion ids then follow time, as in production (payouts.demo relies on it).
    batch.conversions.sort(key=lambda c: c.created_at)
    return batch


def demo_traffic_generate(
    *,
    days: int = 30,
    seed: int = DEFAULT_SEED,
    clicks_per_link_per_day: int = DEFAULT_CLICKS,
    now: datetime | None = None,
) -> DemoTrafficResult:
    """Write ``days`` UTC days of raw traffic ending with today (up to ``now``).

    Conversions are left unreconciled, for payouts' reconciliation; report rollups are not
    rebuilt here either (the caller does it once money has been settled too).
    """
    now = now or timezone.now()
    links = _links()
    written = skipped = clicks = impressions = conversions = 0
    last_day = now.date()
    first_day = last_day - timedelta(days=days - 1)
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        batch = _day_batch(links, day, seed, clicks_per_link_per_day, now)
        if not batch.clicks:
            continue
        with transaction.atomic():
            if Click.objects.filter(id__in=[uuid.UUID(m) for m in batch.markers]).exists():
                skipped += 1
                continue
            records_write(batch.clicks + batch.impressions)  # the click path's own writer
            Conversion.objects.bulk_create(batch.conversions, batch_size=1000)
        written += 1
        clicks += len(batch.clicks)
        impressions += len(batch.impressions)
        conversions += len(batch.conversions)
    return DemoTrafficResult(
        days_written=written,
        days_skipped=skipped,
        clicks=clicks,
        impressions=impressions,
        conversions=conversions,
        first_day=first_day,
        last_day=last_day,
    )
