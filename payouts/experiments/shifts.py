"""Weekly budget shifts: per advertiser, the effect score (payouts.reports.metrics) of each
publisher, sub id, smart-link path and creative over the last 7 days; within each offer (or
smart link, or creative test) a proposal to move ``share`` (20-30 %) of the bottom's cap or
weight to the top, with the numbers behind it.

Levers: a publisher's own cap on the offer (``affiliates.Cap`` with ``publisher``), a smart-link
path's weight, a creative variant's weight. Sub ids (and publishers without their own cap)
have no lever: their proposal is advice, shown with the same numbers. Applying stores each
object's value before and after; undo restores the before values once (status-guarded).
Proposals are idempotent per (advertiser, week, lever, scope): a re-run of the week adds none.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from affiliates.core.errors import Conflict, DomainError
from affiliates.models import Advertiser, Cap
from affiliates.offer_targets import OfferTarget
from affiliates.roles import Actor, Role, may_manage
from payouts.experiments.models import AbVariantDaily, BudgetShift, ShiftSettings
from payouts.reports import metrics
from payouts.reports.selectors import effect_scores
from tracking.models import AbTest, AbVariant, SmartPath, SmartPathDaily

DAYS = 7


@dataclass(frozen=True)
class Scored:
    key: str  # "publisher:12", "path:7", "variant:3", "sub1:abc"
    label: str
    score: Decimal
    numbers: dict[str, Any]


def week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _target(offer_id: int) -> Decimal | None:
    t = OfferTarget.objects.filter(offer_id=offer_id).first()
    return metrics.target_for_range(t.conversions, t.period, DAYS) if t else None


def _score(clicks: int, conversions: int, revenue: Decimal, target: Decimal | None) -> Decimal | None:
    """The report's effect score from rollup sums; these rollups carry no fraud counts, so
    quality counts as 1 (the report's publisher rows carry it in full)."""
    row = {
        "conv_pending": conversions, "conv_approved": 0, "conv_rejected": 0, "conv_reversed": 0,
        "gross_clicks": clicks, "flagged_clicks": 0, "conv_flagged": 0, "revenue": revenue,
    }  # fmt: skip
    return metrics.effect_score(row, target)


def _report_groups(advertiser: Advertiser, start: date, end: date, by: str) -> dict[int, list[Scored]]:
    actor = Actor(role=Role.ADVERTISER, advertiser_id=advertiser.pk)
    report = effect_scores(actor=actor, start=start, end=end, by=by)
    groups: dict[int, list[Scored]] = defaultdict(list)
    for row in report.rows:
        score = row.get("effect_score")
        if score is None:
            continue
        numbers = {k: str(row.get(k)) for k in ("gross_clicks", "conversions", "revenue", "cpa", "quality")}
        groups[row["offer"]].append(
            Scored(f"{by}:{row[by]}", str(row.get(f"{by}_label") or row[by]), score, numbers)
        )
    return groups


def _rollup_groups(advertiser: Advertiser, start: date, end: date) -> dict[str, list[Scored]]:
    """Smart-link paths (per smart link) and creative variants (per test), from their rollups."""
    groups: dict[str, list[Scored]] = defaultdict(list)
    paths = (
        SmartPathDaily.objects.filter(
            path__smart_link__advertiser=advertiser, path__status="active", path__is_catch_all=False,
            day__gte=start, day__lte=end,
        )
        .values("path_id", "path__label", "path__offer_id", "path__smart_link_id")
        .annotate(c=Sum("clicks"), k=Sum("conversions"), r=Sum("revenue"))
    )  # fmt: skip
    for p in paths:
        score = _score(p["c"], p["k"], p["r"], _target(p["path__offer_id"]))
        if score is not None:
            numbers = {"clicks": p["c"], "conversions": p["k"], "revenue": str(p["r"])}
            label = p["path__label"] or f"path {p['path_id']}"
            groups[f"smart:{p['path__smart_link_id']}"].append(
                Scored(f"path:{p['path_id']}", label, score, numbers)
            )
    variants = (
        AbVariantDaily.objects.filter(
            variant__test__offer__advertiser=advertiser, variant__test__kind=AbTest.Kind.CREATIVE,
            variant__test__status=AbTest.Status.RUNNING, variant__status="active",
            day__gte=start, day__lte=end,
        )
        .values("variant_id", "variant__label", "variant__test_id", "variant__test__offer_id")
        .annotate(c=Sum("clicks"), k=Sum("conversions"), r=Sum("revenue"))
    )  # fmt: skip
    for v in variants:
        score = _score(v["c"], v["k"], v["r"], _target(v["variant__test__offer_id"]))
        if score is not None:
            numbers = {"clicks": v["c"], "conversions": v["k"], "revenue": str(v["r"])}
            scored = Scored(f"variant:{v['variant_id']}", v["variant__label"], score, numbers)
            groups[f"test:{v['variant__test_id']}"].append(scored)
    return groups


def _weight_changes(bottom: Scored, top: Scored, share: Decimal) -> dict[str, list[int]]:
    model = SmartPath if bottom.key.startswith("path:") else AbVariant
    low = model.objects.get(pk=int(bottom.key.split(":")[1]))
    high = model.objects.get(pk=int(top.key.split(":")[1]))
    moved = int((Decimal(low.weight) * share).to_integral_value(ROUND_DOWN))
    return {bottom.key: [low.weight, low.weight - moved], top.key: [high.weight, high.weight + moved]}


def _cap_changes(offer_id: int, bottom: Scored, top: Scored, share: Decimal) -> dict[str, list[str]]:
    """Each of the bottom publisher's own caps on the offer loses ``share``; the top's cap of
    the same metric and period, where it has one, gains the same amount."""
    changes: dict[str, list[str]] = {}
    bottom_pub, top_pub = int(bottom.key.split(":")[1]), int(top.key.split(":")[1])
    for cap in Cap.objects.filter(offer_id=offer_id, publisher_id=bottom_pub):
        moved = (cap.limit * share).quantize(Decimal("1"), rounding=ROUND_DOWN)
        changes[f"cap:{cap.pk}"] = [str(cap.limit), str(cap.limit - moved)]
        twin = Cap.objects.filter(
            offer_id=offer_id, publisher_id=top_pub, metric=cap.metric, period=cap.period, scope=cap.scope
        ).first()
        if twin is not None:
            changes[f"cap:{twin.pk}"] = [str(twin.limit), str(twin.limit + moved)]
    return changes


def _propose(
    advertiser: Advertiser, week: date, lever: str, scope: str, items: list[Scored], changes: dict[str, Any]
) -> BudgetShift | None:
    items = sorted(items, key=lambda s: s.score)
    bottom, top = items[0], items[-1]
    settings = ShiftSettings.objects.filter(advertiser=advertiser).first()
    share = settings.share if settings else Decimal("0.25")
    try:
        with transaction.atomic():
            return BudgetShift.objects.create(
                advertiser=advertiser,
                week=week,
                lever=lever,
                scope=scope,
                bottom=f"{bottom.key} {bottom.label}"[:255],
                top=f"{top.key} {top.label}"[:255],
                share=share,
                numbers={s.key: {"label": s.label, "effect_score": str(s.score), **s.numbers} for s in items},
                changes=changes,
                status=BudgetShift.Status.PROPOSED if changes else BudgetShift.Status.ADVICE,
            )
    except IntegrityError:  # this week's proposal for this scope exists already
        return None


def budget_shifts_propose(*, advertiser: Advertiser, today: date | None = None) -> list[BudgetShift]:
    """This week's proposals for one advertiser (the last 7 full days); applied at once when
    the advertiser turned automatic application on."""
    today = today or timezone.now().date()
    end, start = today - timedelta(days=1), today - timedelta(days=DAYS)
    week = week_of(today)
    settings = ShiftSettings.objects.filter(advertiser=advertiser).first()
    share = settings.share if settings else Decimal("0.25")
    made: list[BudgetShift | None] = []
    for offer_id, items in _report_groups(advertiser, start, end, "publisher").items():
        if len(items) >= 2:
            ranked = sorted(items, key=lambda s: s.score)
            changes = _cap_changes(offer_id, ranked[0], ranked[-1], share)
            made.append(
                _propose(
                    advertiser, week, BudgetShift.Lever.PUBLISHER_CAP, f"offer:{offer_id}", items, changes
                )
            )
    for offer_id, items in _report_groups(advertiser, start, end, "sub1").items():
        if len(items) >= 2:
            made.append(_propose(advertiser, week, BudgetShift.Lever.SUB_ID, f"offer:{offer_id}", items, {}))
    for scope, items in _rollup_groups(advertiser, start, end).items():
        if len(items) >= 2:
            ranked = sorted(items, key=lambda s: s.score)
            lever = (
                BudgetShift.Lever.PATH_WEIGHT
                if scope.startswith("smart:")
                else BudgetShift.Lever.VARIANT_WEIGHT
            )
            made.append(
                _propose(advertiser, week, lever, scope, items, _weight_changes(ranked[0], ranked[-1], share))
            )
    shifts = [s for s in made if s is not None]
    if settings is not None and settings.auto_apply:
        for shift in shifts:
            if shift.status == BudgetShift.Status.PROPOSED:
                budget_shift_apply(shift=shift, by=None)
    return shifts


def _set(key: str, value: Any) -> None:
    kind, pk = key.split(":")
    if kind == "cap":
        cap = Cap.objects.get(pk=int(pk))
        cap.limit = Decimal(value)
        cap.save(update_fields=["limit"])  # the signal evicts the cached links
    elif kind == "path":
        path = SmartPath.objects.get(pk=int(pk))
        path.weight = int(value)
        path.save(update_fields=["weight"])
    elif kind == "variant":
        variant = AbVariant.objects.get(pk=int(pk))
        variant.weight = int(value)
        variant.save(update_fields=["weight"])


def _guard(actor: Actor | None, shift: BudgetShift) -> None:
    if actor is not None and not (
        (actor.is_staff and may_manage(actor, shift.advertiser))
        or (actor.is_advertiser and actor.advertiser_id == shift.advertiser_id)
    ):
        raise DomainError("You may not change this advertiser's budget.", code="forbidden", status_code=403)


def budget_shift_apply(*, shift: BudgetShift, by: Any, actor: Actor | None = None) -> BudgetShift:
    """Apply a proposal (once); the values before are in ``changes``, for undo."""
    _guard(actor, shift)
    with transaction.atomic():
        if not BudgetShift.objects.filter(pk=shift.pk, status=BudgetShift.Status.PROPOSED).update(
            status=BudgetShift.Status.APPLIED, applied_at=timezone.now(), applied_by=by
        ):
            raise Conflict("Only a proposed shift can be applied.", code="not_proposed")
        for key, (_, after) in shift.changes.items():
            _set(key, after)
    shift.refresh_from_db()
    return shift


def budget_shift_undo(*, shift: BudgetShift, actor: Actor | None = None) -> BudgetShift:
    """Put every cap and weight back as it was before the shift (once)."""
    _guard(actor, shift)
    with transaction.atomic():
        if not BudgetShift.objects.filter(pk=shift.pk, status=BudgetShift.Status.APPLIED).update(
            status=BudgetShift.Status.UNDONE, undone_at=timezone.now()
        ):
            raise Conflict("Only an applied shift can be undone.", code="not_applied")
        for key, (before, _) in shift.changes.items():
            _set(key, before)
    shift.refresh_from_db()
    return shift


def shift_settings_set(*, advertiser: Advertiser, auto_apply: bool, share: Decimal) -> ShiftSettings:
    if not Decimal("0.20") <= share <= Decimal("0.30"):
        raise DomainError("The share is between 0.20 and 0.30.", code="bad_share")
    settings, _ = ShiftSettings.objects.update_or_create(
        advertiser=advertiser, defaults={"auto_apply": auto_apply, "share": share}
    )
    return settings


def advertisers_due(*, now: datetime) -> list[int]:
    """Advertisers with any live offer: each gets this week's proposals (idempotent)."""
    return list(Advertiser.objects.filter(status=Advertiser.Status.ACTIVE).values_list("pk", flat=True))
