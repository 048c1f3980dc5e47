"""The journey job: each valid conversion's journey, its touches' roles and credits under every
model, and the offer's assist commissions.

``journeys_refresh`` recomputes the journeys of conversions recorded in the last
``JOURNEYS_RECOMPUTE_DAYS`` (statuses and commissions still move there); older journeys are
kept as they are. The Markov removal effects of each offer are learnt from its journeys of the
last ``JOURNEYS_MARKOV_DAYS`` (the new ones and those already in the tables, never raw clicks).
It reads raw clicks only through tracking.journeys.touches, bounded per conversion by the offer
and its attribution window.

Idempotent: one transaction deletes the window's journeys and writes them again, then sums the
window's days again into the daily rollups the reports read (tracking.journeys.rollup), under a
lock so two runs never interleave; assists are keyed per conversion and publisher.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from affiliates.core.audit import audit_system
from affiliates.models import Offer
from payouts.journeys.assists import Assist, assists_create, assists_follow
from payouts.models import Commission, CommissionStatus
from tracking.journeys import credits
from tracking.journeys.markov import Path, markov_split, removal_effects
from tracking.journeys.rollup import rollup_refresh
from tracking.journeys.touches import Found, journeys_touches
from tracking.models import Conversion, Journey, JourneyRun, Touch
from tracking.models.conversions import ConversionStatus

VALID = (ConversionStatus.PENDING, ConversionStatus.APPROVED)
PAID = (CommissionStatus.PENDING, CommissionStatus.APPROVED)
LOCK_KEY = 0x4A524E  # "JRN": the advisory lock that serialises runs on PostgreSQL
ZERO = Decimal(0)


@dataclass(frozen=True)
class RefreshResult:
    as_of: datetime
    window_start: datetime
    journeys: int
    touches: int
    assists: int


@dataclass
class Built:
    journey: Journey
    touches: list[Touch]
    found: list[Found]


def _lock() -> None:
    """Hold until the end of the transaction; SQLite serialises writers by itself."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])


def _money(conv: Conversion) -> tuple[Decimal, Decimal]:
    c: Commission | None = getattr(conv, "commission", None)
    if c is None or c.status not in PAID:
        return ZERO, ZERO
    return c.revenue, c.payout


def _build(conv: Conversion, offer: Offer, now: datetime, found: list[Found], paid: object) -> Built | None:
    if not found or conv.publisher_id is None:
        return None
    revenue, payout = _money(conv)
    view_through = (conv.trace or {}).get("attribution", {}).get("by") == "view_through"
    journey = Journey(
        conversion_id=conv.pk,
        advertiser_id=offer.advertiser_id,
        offer_id=offer.pk,
        publisher_id=conv.publisher_id,
        converted_at=conv.created_at,
        day=conv.created_at.date(),
        currency=offer.currency,
        revenue=revenue,
        payout=payout,
        view_through=view_through,
        touches=len(found),
        publishers=len({f.publisher_id for f in found}),
        computed_at=now,
    )
    n = len(found)
    columns = {
        "last_click": credits.last_click(n),
        "first_click": credits.first_click(n),
        "linear": credits.linear(n),
        "position_based": credits.position_based(n),
        "time_decay": credits.time_decay([f.at for f in found], conv.created_at),
    }
    roles = credits.roles(n)
    touches = [
        Touch(
            advertiser_id=offer.advertiser_id,
            offer_id=offer.pk,
            day=journey.day,
            currency=offer.currency,
            revenue=revenue,
            payout=payout,
            view_through=view_through,
            position=i + 1,
            kind=f.kind,
            at=f.at,
            publisher_id=f.publisher_id,
            click_id=f.click_id,
            impression_id=f.impression_id,
            sub1=f.sub1,
            source=f.source,
            linked_by=f.linked_by,
            role=roles[i],
            paid=f.key == paid,
            **{name: values[i] for name, values in columns.items()},
        )
        for i, f in enumerate(found)
    ]
    return Built(journey, touches, found)


def _stored_paths(offer_ids: set[int], since: datetime, until: datetime) -> dict[int, list[Path]]:
    """Publisher paths of journeys already in the tables (before the window), per offer."""
    walks: dict[int, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    rows = (
        Touch.objects.filter(offer_id__in=offer_ids, day__gte=since.date(), journey__converted_at__lt=until)
        .order_by("journey_id", "position")
        .values_list("offer_id", "journey_id", "publisher_id")
    )
    for offer_id, journey_id, publisher_id in rows.iterator(chunk_size=5000):
        walks[offer_id][journey_id].append(publisher_id)
    return {o: [Path(tuple(w), conversions=1) for w in j.values()] for o, j in walks.items()}


def _markov(built: list[Built], since: datetime, start: datetime) -> None:
    """Learn each offer's removal effects and split each new journey by them."""
    by_offer: dict[int, list[Built]] = defaultdict(list)
    for b in built:
        by_offer[b.journey.offer_id].append(b)
    stored = _stored_paths(set(by_offer), since, start)
    for offer_id, journeys in by_offer.items():
        paths = stored.get(offer_id, []) + [
            Path(tuple(t.publisher_id for t in b.touches), conversions=1) for b in journeys
        ]
        effects = removal_effects(paths)
        for b in journeys:
            split = markov_split([t.publisher_id for t in b.touches], effects)
            for touch, share in zip(b.touches, split, strict=True):
                touch.markov = share


def _conversions(start: datetime, as_of: datetime) -> list[Conversion]:
    return list(
        Conversion.objects.filter(
            created_at__gte=start, created_at__lt=as_of, offer__isnull=False, publisher__isnull=False
        )
        .select_related("commission")
        .order_by("created_at", "id")
    )


def _assists(
    built: list[Built], offers: dict[int, Offer], convs: dict[int, Conversion], now: datetime
) -> int:
    made = 0
    wanted: dict[int, list[Assist]] = defaultdict(list)
    for b in built:
        offer = offers[b.journey.offer_id]
        if not offer.assist_enabled:
            continue
        closer = b.journey.publisher_id
        conv = convs[b.journey.conversion_id]
        for publisher_id in sorted({t.publisher_id for t in b.touches} - {closer}):
            wanted[offer.pk].append(Assist(conv, publisher_id))
    for offer_id, assists in wanted.items():
        made += assists_create(offer=offers[offer_id], wanted=assists, now=now)
    return made


def journeys_refresh(*, as_of: datetime | None = None, days: int | None = None) -> RefreshResult:
    """Recompute the window's journeys, credits and assists (see the module's docstring)."""
    began = time.monotonic()
    now = timezone.now()
    as_of = as_of or now
    start = as_of - timedelta(days=days if days is not None else settings.JOURNEYS_RECOMPUTE_DAYS)
    with transaction.atomic(), audit_system("journeys"):
        _lock()
        convs = _conversions(start, as_of)
        offers = Offer.objects.in_bulk({c.offer_id for c in convs if c.offer_id})
        pairs = [(c, offers[c.offer_id]) for c in convs if c.status in VALID and c.offer_id in offers]
        built = [
            b
            for (c, offer), (found, paid) in zip(pairs, journeys_touches(pairs=pairs), strict=True)
            for b in [_build(c, offer, now, found, paid)]
            if b is not None
        ]
        _markov(built, as_of - timedelta(days=settings.JOURNEYS_MARKOV_DAYS), start)
        Touch.objects.filter(journey__converted_at__gte=start, journey__converted_at__lt=as_of).delete()
        Journey.objects.filter(converted_at__gte=start, converted_at__lt=as_of).delete()
        Journey.objects.bulk_create([b.journey for b in built], batch_size=2000)
        for b in built:
            for t in b.touches:
                t.journey_id = b.journey.pk
        Touch.objects.bulk_create([t for b in built for t in b.touches], batch_size=2000)
        rollup_refresh(first_day=start.date(), last_day=as_of.date())
        by_id = {c.pk: c for c in convs}
        assists = _assists(built, offers, by_id, now)
        assists_follow(conversions={c.pk: (c.status, c.held_for_review) for c in convs}, now=now)
        JourneyRun.objects.create(
            as_of=as_of,
            window_start=start,
            journeys=len(built),
            assists=assists,
            seconds=time.monotonic() - began,
        )
    return RefreshResult(as_of, start, len(built), sum(len(b.touches) for b in built), assists)
