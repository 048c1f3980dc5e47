"""Raw traffic for the demo's optimisation and measurement features, as tracking records it.

The 30 days of tracking.demo are plain links. The features need clicks the click path marks
(a smart link's path, an A/B variant, a holdout arm) and visitors who click several
publishers before buying; this writes those, through the click path's own writer, with the
conversions the postback intake would store (a held-out visitor's conversion rejected as
``holdout_control``: measured, never paid). Reconciliation, rollups and the features' own
jobs then run on them exactly as on production traffic (payouts.demo.features).

Deterministic and idempotent like tracking.demo: click ids derive from a batch's name, and a
batch whose first click exists is skipped.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction

from affiliates.models import Goal, Offer
from tracking.clickpath.writer import records_write
from tracking.demo import DEVICES, IP_PREFIXES, _det_click_id
from tracking.models import Click, Conversion
from tracking.models.holdouts import HoldoutArm
from tracking.reasons import Reason


@dataclass(frozen=True)
class Visits:
    """``clicks`` clicks of one publisher on one offer, spread evenly over [start, end), each
    converting with probability ``cvr`` on the offer's default goal. ``marks``: the click
    path's columns the batch carries (smart_path_id, ab_variant_id, holdout_test_id...)."""

    name: str
    offer: Offer
    publisher_id: int
    start: datetime
    end: datetime
    clicks: int
    cvr: float
    marks: dict[str, Any] = field(default_factory=dict)
    sale: tuple[int, int] = (4000, 16000)  # a sale's amount, in cents


@dataclass(frozen=True)
class Journey:
    """One visitor (one IP and user agent) clicking ``publisher_ids`` in turn on ``offer``,
    ``gap`` apart, and buying ``wait`` after the last click (attributed to it: last click)."""

    name: str
    offer: Offer
    publisher_ids: list[int]
    first: datetime
    gap: timedelta
    wait: timedelta = timedelta(minutes=40)
    customer: str | None = None  # the hashed customer id the shop's postback names


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _click(
    key: str, at: datetime, offer: Offer, publisher_id: int, visitor: tuple[str, str]
) -> dict[str, Any]:
    ip, user_agent = visitor
    device, os_name = next((d, o) for d, o, ua in DEVICES if ua == user_agent)
    country = offer.target_countries[0] if offer.target_countries else "US"
    return {
        "kind": "c",
        "id": _det_click_id(key, _ms(at)).hex,
        "created_at": _ms(at),
        "offer_id": offer.pk,
        "publisher_id": publisher_id,
        "ip": ip,
        "user_agent": user_agent,
        "country": country,
        "device": device,
        "os": os_name,
        "sub1": "newsletter",
        "sub2": "",
        "source": "src1",
        "is_unique": True,
        "reason": "",
        "fallback_offer_id": None,
        "referer": "",
        "fraud_flags": [],
    }


def _conversion(
    click: dict[str, Any],
    offer: Offer,
    goal: Goal,
    at: datetime,
    amount: Decimal,
    customer: str | None = None,
) -> Conversion:
    """Pending, as a postback with nothing to say about its status is; a held-out visitor's is
    rejected for that reason only (tracking.conversions.services)."""
    held_out = click.get("holdout_arm") == HoldoutArm.CONTROL
    click_id = uuid.UUID(click["id"])
    reason = Reason.HOLDOUT_CONTROL if held_out else ""
    return Conversion(
        created_at=at,
        source=Conversion.Source.POSTBACK,
        advertiser_id=offer.advertiser_id,
        offer_id=offer.pk,
        publisher_id=click["publisher_id"],
        goal_id=goal.pk,
        click_id=click_id,
        click_time=datetime.fromtimestamp(click["created_at"] / 1000, tz=UTC),
        txn_id=f"ORD-{click_id.hex[-10:].upper()}",
        status="rejected" if held_out else "pending",
        reason=reason,
        amount=amount if goal.payout_type == Goal.PayoutType.CPS else None,
        currency=offer.currency,
        country=click["country"],
        sub1=click["sub1"],
        source_id=click["source"],
        customer_hash=customer,
        trace={
            "attribution": {"model": offer.attribution_model, "by": "click_id", "click_id": click_id.hex},
            "verdict": {"status": "rejected" if held_out else "pending", "reason": reason},
            "demo": True,
            "feature": True,  # payouts.demo leaves these to the hold (no replayed decisions)
        },
    )


def _write(clicks: list[dict[str, Any]], conversions: list[Conversion]) -> bool:
    with transaction.atomic():
        if not clicks or Click.objects.filter(id=uuid.UUID(clicks[0]["id"])).exists():
            return False
        records_write(clicks)
        Conversion.objects.bulk_create(conversions)
    return True


def _default_goal(offer: Offer) -> Goal:
    return offer.goals.get(is_default=True)


def visits_write(v: Visits) -> int:
    """Write the batch (once); how many clicks it wrote."""
    rng = random.Random(v.name)
    goal = _default_goal(v.offer)
    step = (v.end - v.start) / max(v.clicks, 1)
    clicks, conversions = [], []
    for i in range(v.clicks):
        at = v.start + step * i
        visitor = (f"{rng.choice(IP_PREFIXES)}.{rng.randrange(1, 255)}", rng.choice(DEVICES)[2])
        click = {**_click(f"{v.name}:{i}", at, v.offer, v.publisher_id, visitor), **v.marks}
        clicks.append(click)
        if rng.random() < v.cvr:
            amount = Decimal(rng.randrange(*v.sale)) / 100
            conversions.append(_conversion(click, v.offer, goal, at + timedelta(minutes=20), amount))
    return len(clicks) if _write(clicks, conversions) else 0


def journey_write(j: Journey) -> int:
    """Write the visitor's clicks and purchase (once); how many touches it wrote."""
    rng = random.Random(j.name)
    visitor = (f"{IP_PREFIXES[0]}.{rng.randrange(1, 255)}", rng.choice(DEVICES)[2])
    clicks = [
        _click(f"{j.name}:{i}", j.first + j.gap * i, j.offer, publisher_id, visitor)
        for i, publisher_id in enumerate(j.publisher_ids)
    ]
    bought = j.first + j.gap * (len(clicks) - 1) + j.wait
    amount = Decimal(rng.randrange(4000, 16000)) / 100
    conversion = _conversion(clicks[-1], j.offer, _default_goal(j.offer), bought, amount, j.customer)
    return len(clicks) if _write(clicks, [conversion]) else 0
