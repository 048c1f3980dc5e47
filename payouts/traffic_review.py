"""Staff judge clicks and impressions invalid after the fact: pick them, see what the CPC and CPM
lines lose, confirm.

One path for the portal's fraud page and ``POST /api/v1/traffic/invalidate/``: traffic is picked
by id (clicks, impressions or both), or by publisher + sub id + time range (a source an
advertiser disputes; clicks or impressions), then ``traffic_invalidate`` flags it and recounts
its days, so the lines shrink and the ledger carries the decrease. The preview runs that same
invalidation inside a transaction that is rolled back, so what staff see before confirming is
exactly what confirming does (nothing is written: flags, lines, ledger and report marks all
roll back).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from affiliates.core.errors import DomainError
from payouts.models import Commission
from payouts.traffic import clicks_valid, impressions_valid, traffic_invalidate
from tracking.models import Click, Impression
from tracking.models.clicks import ClickFlag

MAX_ROWS = 50_000
SUB_FIELDS = ("sub1", "sub2", "sub3", "sub4", "sub5", "source")
TRAFFIC = ("clicks", "impressions")


@dataclass(frozen=True)
class _Kind:
    model: type[Click | Impression]
    line: str  # the Commission kind that pays it
    valid: Callable[[QuerySet[Any]], QuerySet[Any]]


_KINDS = {
    "clicks": _Kind(Click, Commission.Kind.CPC, clicks_valid),
    "impressions": _Kind(Impression, Commission.Kind.CPM, impressions_valid),
}


@dataclass(frozen=True)
class Selection:
    """What to judge: ``click_ids`` and/or ``impression_ids``, or a publisher's ``traffic``
    (clicks or impressions) with ``sub`` = ``value`` in [start, end)."""

    click_ids: tuple[str, ...] = ()
    impression_ids: tuple[str, ...] = ()
    publisher_id: int | None = None
    traffic: str = "clicks"
    sub: str = "sub1"
    value: str = ""
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True)
class LineChange:
    commission_id: int
    kind: str  # cpc or cpm
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
    impressions: int = 0  # the same for impressions and CPM lines
    paid_impressions: int = 0

    @property
    def picked(self) -> str:
        """'6 clicks', '2 impressions' or '6 clicks and 2 impressions'."""
        parts = [
            f"{n} {word}{'' if n == 1 else 's'}"
            for n, word in ((self.clicks, "click"), (self.impressions, "impression"))
            if n
        ]
        return " and ".join(parts)


def _not_invalidated(qs: QuerySet[Any]) -> list[Any]:
    flag = ClickFlag.INVALIDATED.value
    return [
        pk for pk, flags in qs.values_list("pk", "fraud_flags")[: MAX_ROWS + 1] if flag not in (flags or [])
    ]


def traffic_select(selection: Selection) -> dict[str, list[Any]]:
    """The ids of the picked clicks and impressions not invalidated yet, by traffic kind;
    refuses an empty or too wide pick."""
    picked: dict[str, list[Any]] = {"clicks": [], "impressions": []}
    if selection.click_ids or selection.impression_ids:
        for traffic, ids in (("clicks", selection.click_ids), ("impressions", selection.impression_ids)):
            if ids:
                picked[traffic] = _not_invalidated(_KINDS[traffic].model.objects.filter(pk__in=ids))
    elif selection.publisher_id and selection.start and selection.end:
        if selection.sub not in SUB_FIELDS:
            raise DomainError(f"sub must be one of {', '.join(SUB_FIELDS)}.", code="bad_sub")
        if selection.traffic not in TRAFFIC:
            raise DomainError("traffic must be clicks or impressions.", code="bad_traffic")
        if selection.end <= selection.start:
            raise DomainError("The range ends before it starts.", code="bad_range")
        qs = _KINDS[selection.traffic].model.objects.filter(
            publisher_id=selection.publisher_id,
            created_at__gte=selection.start,
            created_at__lt=selection.end,
            **{selection.sub: selection.value},
        )
        picked[selection.traffic] = _not_invalidated(qs)
    else:
        raise DomainError(
            "Give click or impression ids, or a publisher, a sub id and a time range.",
            code="selection_required",
        )
    if sum(map(len, picked.values())) > MAX_ROWS:
        raise DomainError(
            f"More than {MAX_ROWS} clicks or impressions: narrow the range.", code="selection_too_wide"
        )
    if not any(picked.values()):
        raise DomainError("No click or impression to invalidate in this selection.", code="nothing_selected")
    return picked


def _lines_of(kind: _Kind, ids: list[Any]) -> dict[int, tuple[int, Decimal, Decimal]]:
    keys = {
        (o, p, at.astimezone(UTC).date())
        for o, p, at in kind.model.objects.filter(pk__in=ids).values_list(
            "offer_id", "publisher_id", "created_at"
        )
    }
    lines: dict[int, tuple[int, Decimal, Decimal]] = {}
    for offer_id, publisher_id, day in keys:
        for pk, q, rev, pay in Commission.objects.filter(
            kind=kind.line, offer_id=offer_id, publisher_id=publisher_id, day=day
        ).values_list("pk", "quantity", "revenue", "payout"):
            lines[pk] = (q, rev, pay)
    return lines


def traffic_judge(*, selection: Selection, reason: str, actor: str, confirm: bool) -> Judgement:
    """Invalidate the picked clicks and impressions (``confirm``) or only say what that would do."""
    if not reason.strip():
        raise DomainError("A reason is required.", code="reason_required")
    picked = traffic_select(selection)
    with transaction.atomic():
        paid = {
            t: _KINDS[t].valid(_KINDS[t].model.objects.filter(pk__in=ids)).count()
            for t, ids in picked.items()
        }
        before = {pk: v for t, ids in picked.items() if ids for pk, v in _lines_of(_KINDS[t], ids).items()}
        traffic_invalidate(
            click_ids=picked["clicks"],
            impression_ids=picked["impressions"],
            reason=reason.strip(),
            actor=actor,
        )
        after = Commission.objects.select_related("offer", "publisher").in_bulk(list(before))
        if not confirm:
            transaction.set_rollback(True)  # a preview: the same work, written nowhere
    changes = [
        LineChange(
            commission_id=pk,
            kind=after[pk].kind,
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
    return Judgement(
        clicks=len(picked["clicks"]),
        paid_clicks=paid["clicks"],
        impressions=len(picked["impressions"]),
        paid_impressions=paid["impressions"],
        lines=changes,
        applied=confirm,
    )
