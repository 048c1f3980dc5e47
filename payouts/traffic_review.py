"""Staff judge clicks invalid after the fact: pick them, see what the CPC lines lose, confirm.

One path for the portal's fraud page and ``POST /api/v1/traffic/invalidate/``: clicks are picked
by id, or by publisher + sub id + time range (a source an advertiser disputes), then
``traffic_invalidate`` flags them and recounts their days, so the lines shrink and the ledger
carries the decrease. The preview runs that same invalidation inside a transaction that is
rolled back, so what staff see before confirming is exactly what confirming does (nothing is
written: flags, lines, ledger and report marks all roll back).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.db import transaction

from affiliates.core.errors import DomainError
from payouts.models import Commission
from payouts.traffic import clicks_valid, traffic_invalidate
from tracking.models import Click
from tracking.models.clicks import ClickFlag

MAX_CLICKS = 50_000
SUB_FIELDS = ("sub1", "sub2", "sub3", "sub4", "sub5", "source")


@dataclass(frozen=True)
class Selection:
    """Which clicks to judge: ``click_ids``, or a publisher's clicks with ``sub`` = ``value`` in
    [start, end)."""

    click_ids: tuple[str, ...] = ()
    publisher_id: int | None = None
    sub: str = "sub1"
    value: str = ""
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True)
class LineChange:
    commission_id: int
    offer: str
    publisher: str
    day: Any
    currency: str
    quantity: tuple[int, int]  # before, after
    revenue: tuple[Decimal, Decimal]
    payout: tuple[Decimal, Decimal]


@dataclass(frozen=True)
class Judgement:
    clicks: int  # clicks picked that were not invalidated yet
    paid_clicks: int  # of those, how many a CPC line pays today
    lines: list[LineChange]
    applied: bool


def clicks_select(selection: Selection) -> list[Any]:
    """The ids of the picked clicks not invalidated yet; refuses an empty or too wide pick."""
    qs = Click.objects.all()
    if selection.click_ids:
        qs = qs.filter(pk__in=selection.click_ids)
    elif selection.publisher_id and selection.start and selection.end:
        if selection.sub not in SUB_FIELDS:
            raise DomainError(f"sub must be one of {', '.join(SUB_FIELDS)}.", code="bad_sub")
        if selection.end <= selection.start:
            raise DomainError("The range ends before it starts.", code="bad_range")
        qs = qs.filter(
            publisher_id=selection.publisher_id,
            created_at__gte=selection.start,
            created_at__lt=selection.end,
            **{selection.sub: selection.value},
        )
    else:
        raise DomainError(
            "Give click ids, or a publisher, a sub id and a time range.", code="selection_required"
        )
    ids = [
        pk
        for pk, flags in qs.values_list("pk", "fraud_flags")[: MAX_CLICKS + 1]
        if ClickFlag.INVALIDATED.value not in (flags or [])
    ]
    if len(ids) > MAX_CLICKS:
        raise DomainError(f"More than {MAX_CLICKS} clicks: narrow the range.", code="selection_too_wide")
    if not ids:
        raise DomainError("No click to invalidate in this selection.", code="nothing_selected")
    return ids


def _lines_of(ids: list[Any]) -> dict[int, tuple[int, Decimal, Decimal]]:
    keys = {
        (o, p, at.astimezone(UTC).date())
        for o, p, at in Click.objects.filter(pk__in=ids).values_list("offer_id", "publisher_id", "created_at")
    }
    lines: dict[int, tuple[int, Decimal, Decimal]] = {}
    for offer_id, publisher_id, day in keys:
        for pk, q, rev, pay in Commission.objects.filter(
            kind=Commission.Kind.CPC, offer_id=offer_id, publisher_id=publisher_id, day=day
        ).values_list("pk", "quantity", "revenue", "payout"):
            lines[pk] = (q, rev, pay)
    return lines


def traffic_judge(*, selection: Selection, reason: str, actor: str, confirm: bool) -> Judgement:
    """Invalidate the picked clicks (``confirm``) or only say what that would do."""
    if not reason.strip():
        raise DomainError("A reason is required.", code="reason_required")
    ids = clicks_select(selection)
    with transaction.atomic():
        paid = clicks_valid(Click.objects.filter(pk__in=ids)).count()
        before = _lines_of(ids)
        traffic_invalidate(click_ids=ids, reason=reason.strip(), actor=actor)
        after = Commission.objects.select_related("offer", "publisher").in_bulk(list(before))
        if not confirm:
            transaction.set_rollback(True)  # a preview: the same work, written nowhere
    changes = [
        LineChange(
            commission_id=pk,
            offer=after[pk].offer.name,
            publisher=after[pk].publisher.name,
            day=after[pk].day,
            currency=after[pk].currency,
            quantity=(q, after[pk].quantity),
            revenue=(rev, after[pk].revenue),
            payout=(pay, after[pk].payout),
        )
        for pk, (q, rev, pay) in sorted(before.items())
        if (q, rev, pay) != (after[pk].quantity, after[pk].revenue, after[pk].payout)
    ]
    return Judgement(clicks=len(ids), paid_clicks=paid, lines=changes, applied=confirm)
