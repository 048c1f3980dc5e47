"""Assist commissions: a publisher who touched a conversion's journey but did not close it
earns the offer's assist payout (the advertiser pays its assist revenue), at most once per
conversion (the unique source key ``assist:<conversion>:<publisher>``) and at most the offer's
``assist_daily_cap`` times per UTC day.

They move money like any commission: created with a creation posting, then brought to the
conversion's status (approved, rejected, reversed; held for review with it) through
``changes_apply`` and tracking.lifecycle's lawful transitions; the hold job approves a pending
one when its hold has passed, as it does a conversion's.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from affiliates.core.money import money_round
from affiliates.models import Offer
from payouts.models import Commission, CommissionStatus, Transaction
from payouts.postings import Change, changes_apply, commissions_lock, ledger_post_many, posting_for
from payouts.reconcile import transition_kind
from tracking.lifecycle import LAWFUL
from tracking.models import Conversion

log = logging.getLogger(__name__)
VALID = (CommissionStatus.PENDING, CommissionStatus.APPROVED)


@dataclass(frozen=True)
class Assist:
    conversion: Conversion
    publisher_id: int

    @property
    def key(self) -> str:
        return assist_key(self.conversion.pk, self.publisher_id)


def assist_key(conversion_id: int, publisher_id: int) -> str:
    return f"assist:{conversion_id}:{publisher_id}"


def _taken(offer_id: int, publishers: Iterable[int], day: date) -> dict[int, int]:
    counts: dict[int, int] = defaultdict(int)
    rows = Commission.objects.filter(
        kind=Commission.Kind.ASSIST, offer_id=offer_id, publisher_id__in=set(publishers), day=day
    ).exclude(status=CommissionStatus.REJECTED)
    for publisher_id in rows.values_list("publisher_id", flat=True):
        counts[publisher_id] += 1
    return counts


def _capped(offer: Offer, wanted: list[Assist]) -> list[Assist]:
    """Within the daily cap, first come (earliest conversion) first served."""
    if offer.assist_daily_cap is None:
        return wanted
    kept: list[Assist] = []
    by_day: dict[date, list[Assist]] = defaultdict(list)
    for a in sorted(wanted, key=lambda a: (a.conversion.created_at, a.conversion.pk)):
        by_day[a.conversion.created_at.date()].append(a)
    for day, assists in by_day.items():
        used = _taken(offer.pk, {a.publisher_id for a in assists}, day)
        for a in assists:
            if used[a.publisher_id] < offer.assist_daily_cap:
                used[a.publisher_id] += 1
                kept.append(a)
    return kept


def _commission(a: Assist, offer: Offer, now: datetime) -> Commission:
    conv = a.conversion
    assert conv.goal_id is not None  # valid conversions always have their goal
    return Commission(
        source_key=a.key,
        kind=Commission.Kind.ASSIST,
        advertiser_id=offer.advertiser_id,
        offer_id=offer.pk,
        publisher_id=a.publisher_id,
        goal_id=conv.goal_id,
        day=conv.created_at.date(),
        status=conv.status,
        currency=offer.currency,
        revenue=money_round(offer.assist_revenue, offer.currency),
        payout=money_round(offer.assist_payout, offer.currency),
        price_source=f"assist:offer:{offer.pk}",
        hold_until=conv.created_at + timedelta(days=offer.hold_days),
        held_for_review=conv.held_for_review,
        status_by="reconcile",
        approved_at=now if conv.status == CommissionStatus.APPROVED else None,
        created_at=now,
        updated_at=now,
    )


def assists_create(*, offer: Offer, wanted: Sequence[Assist], now: datetime) -> int:
    """Create the assist commissions not made yet (within the cap) and post their creation.
    Returns how many were created. The caller holds the journey job's lock; the unique source
    key is the backstop against a second run making one twice."""
    keys = [a.key for a in wanted]
    existing = set(Commission.objects.filter(source_key__in=keys).values_list("source_key", flat=True))
    fresh = _capped(offer, [a for a in wanted if a.key not in existing and a.conversion.status in VALID])
    if not fresh:
        return 0
    Commission.objects.bulk_create([_commission(a, offer, now) for a in fresh], ignore_conflicts=True)
    made = Commission.objects.filter(source_key__in=[a.key for a in fresh], revision=1, created_at=now)
    postings = [
        posting_for(
            c, kind=Transaction.Kind.COMMISSION, revision=1, old=None, new=(c.status, c.revenue, c.payout)
        )
        for c in made
    ]
    ledger_post_many(postings, now=now)
    return len(postings)


def assists_follow(*, conversions: dict[int, tuple[str, bool]], now: datetime) -> int:
    """Bring the assists of these conversions to the conversion's (status, held). Returns how
    many changed. A move the lifecycle does not allow (the assist was decided on its own) is
    left alone and logged, as reconciliation does for a conversion's commission."""
    if not conversions:
        return 0
    assists = Commission.objects.filter(kind=Commission.Kind.ASSIST, day__gte=min_day(conversions))
    ids = [pk for pk, key in assists.values_list("id", "source_key") if int(key.split(":")[1]) in conversions]
    changes = []
    for c in commissions_lock(ids):
        status, held = conversions[int(c.source_key.split(":")[1])]
        if status == c.status and held == c.held_for_review:
            continue
        if status != c.status and (c.status, status) not in LAWFUL:
            log.warning("assist %s stays %s: its conversion is now %s", c.pk, c.status, status)
            continue
        changes.append(
            Change(
                commission=c,
                status=status,
                revenue=c.revenue,
                payout=c.payout,
                txn_kind=transition_kind(status) if status != c.status else "adjustment",
                reason="conversion status changed",
                actor="reconcile",
                extra={"held_for_review": held},
            )
        )
    return len(changes_apply(changes, now=now))


def min_day(conversions: dict[int, tuple[str, bool]]) -> date:
    """The earliest day an assist of these conversions can be on (their ids are in time order
    within the job's window; the day bound keeps the lookup on the commission_offer_day index)."""
    return Conversion.objects.filter(pk=min(conversions)).values_list("created_at", flat=True)[0].date()
