"""Writes of A/B tests: create (or from the preset), start, look (and decide), promote, undo, end.

A look reads the per-variant rollups since the test started, applies the stopping rule
(stats.py) and stores what it saw on the test. A clear winner is promoted automatically when
the advertiser chose that, else it waits for one click; the horizon without a winner keeps the
control. Promoting pauses the losers and gives the winner every click; the decision stores
the variants' status and weight before and after, so undo restores them (once: a
status-guarded update) and the test runs again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet, Sum
from django.urls import reverse
from django.utils import timezone

from affiliates.core.errors import Conflict, DomainError
from affiliates.models import Creative, Offer
from affiliates.notifications import notifications_create
from affiliates.roles import Actor, may_manage, visible
from payouts.experiments import stats
from payouts.experiments.models import AbDecision, AbVariantDaily
from tracking.models import AbTest, AbVariant

MAX_VARIANTS = 5
# The practice's preset: 2-3 variants a week, a daily look, keep the winner for a month
# (automatic promotion stays the advertiser's own choice).
PRESET_WEEKLY: dict[str, Any] = {
    "stopping_rule": AbTest.StoppingRule.FIXED,
    "duration_days": 7,
    "max_looks": 7,
    "keep_winner_days": 30,
}
SETTINGS = (
    "name", "kind", "hypothesis", "metric", "stopping_rule", "alpha", "min_sample", "max_sample",
    "max_looks", "duration_days", "keep_winner_days", "auto_promote",
)  # fmt: skip


@dataclass(frozen=True)
class VariantSpec:
    label: str
    landing_url: str = ""
    creative: Creative | None = None
    weight: int = 100
    is_control: bool = False


def ab_tests_visible(*, actor: Actor) -> QuerySet[AbTest]:
    """Advertisers see the tests of their offers, staff all, publishers none."""
    qs = AbTest.objects.select_related("offer", "offer__advertiser")
    if actor.is_publisher:
        return qs.none()
    return qs.filter(offer__in=visible(Offer.objects.all(), actor))


def _check(actor: Actor, offer: Offer, kind: str, specs: list[VariantSpec]) -> None:
    if not may_manage(actor, offer):
        raise DomainError("You may not test this offer.", code="forbidden", status_code=403)
    if not 2 <= len(specs) <= MAX_VARIANTS:
        raise DomainError(f"A test has 2 to {MAX_VARIANTS} variants.", code="variant_count")
    if sum(1 for s in specs if s.is_control) > 1:
        raise DomainError("One control at most.", code="one_control")
    for s in specs:
        if s.creative is not None and s.creative.offer_id != offer.pk:
            raise DomainError(f"Creative {s.creative.pk} is not this offer's.", code="bad_creative")
        if kind == AbTest.Kind.CREATIVE and s.creative is None:
            raise DomainError("Each variant of a creative test names a creative.", code="creative_required")
        if kind == AbTest.Kind.LANDING and not s.landing_url and s is not specs[0]:
            raise DomainError(
                "Each challenger of a landing-page test needs its URL.", code="landing_required"
            )


@transaction.atomic
def ab_test_create(
    *, actor: Actor, offer: Offer, variants: list[VariantSpec], created_by: Any = None, **fields: Any
) -> AbTest:
    """A draft test with its variants (the first is the control unless one is marked)."""
    kind = fields.get("kind", AbTest.Kind.LANDING)
    _check(actor, offer, kind, variants)
    test = AbTest(offer=offer, created_by=created_by, **{k: v for k, v in fields.items() if k in SETTINGS})
    if test.max_sample < test.min_sample:
        raise DomainError("max_sample must be at least min_sample.", code="sample_order")
    try:
        test.full_clean(exclude=["offer", "created_by"])
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise DomainError(f"{field}: {messages[0]}", code="invalid") from exc
    test.save()
    control = next((i for i, s in enumerate(variants) if s.is_control), 0)
    for i, s in enumerate(variants):
        AbVariant.objects.create(
            test=test,
            label=s.label,
            landing_url=s.landing_url,
            creative=s.creative,
            weight=s.weight,
            is_control=i == control,
            position=i,
        )
    return test


def ab_test_start(*, actor: Actor, test: AbTest, now: datetime | None = None) -> AbTest:
    """Start splitting the offer's clicks (the link snapshots are evicted by the save's signal)."""
    if not may_manage(actor, test.offer):
        raise DomainError("You may not start this test.", code="forbidden", status_code=403)
    if (
        AbTest.objects.filter(offer=test.offer, status__in=("running", "decided"))
        .exclude(pk=test.pk)
        .exists()
    ):
        raise Conflict("The offer already runs a test: end it first.", code="test_running")
    try:
        with transaction.atomic():
            locked = AbTest.objects.select_for_update().get(pk=test.pk)
            if locked.status != AbTest.Status.DRAFT:
                raise Conflict("Only a draft test can start.", code="not_draft")
            locked.status, locked.started_at = AbTest.Status.RUNNING, now or timezone.now()
            # A save, not an update: the audit log records it, the signal evicts the offer's links.
            locked.save(update_fields=["status", "started_at", "updated_at"])
    except IntegrityError as exc:  # another test of the offer started meanwhile (the constraint)
        raise Conflict("The offer already runs a test: end it first.", code="test_running") from exc
    return locked


def ab_test_end(*, actor: Actor, test: AbTest) -> AbTest:
    """Close a test: the offer's own landing page takes every click again."""
    if not may_manage(actor, test.offer):
        raise DomainError("You may not end this test.", code="forbidden", status_code=403)
    test.status = AbTest.Status.ENDED
    test.save(update_fields=["status", "updated_at"])
    return test


def variant_numbers(test: AbTest) -> list[stats.Numbers]:
    """Each live variant's totals since the test started, from the rollups."""
    value = "payout" if test.metric == AbTest.Metric.EPC else "revenue"
    since = (test.started_at or test.created_at).date()
    sums = {
        r["variant_id"]: r
        for r in AbVariantDaily.objects.filter(variant__test=test, day__gte=since)
        .values("variant_id")
        .annotate(c=Sum("clicks"), k=Sum("conversions"), v=Sum(value), sq=Sum(f"{value}_sq"))
    }
    out = []
    for v in test.variants.filter(status=AbVariant.Status.ACTIVE):
        r = sums.get(v.pk, {})
        out.append(
            stats.Numbers(v.pk, r.get("c") or 0, r.get("k") or 0, float(r.get("v") or 0), r.get("sq") or 0.0)
        )
    return out


def _verdict(test: AbTest, numbers: list[stats.Numbers], now: datetime) -> dict[str, Any]:
    control = test.variants.get(is_control=True)
    fewest = min(n.clicks for n in numbers)
    base: dict[str, Any] = {"at": now.isoformat(), "fewest_clicks": fewest}
    if control.status != AbVariant.Status.ACTIVE or len(numbers) < 2:
        return {**base, "verdict": "collecting", "note": "Fewer than two live variants."}
    if fewest < test.min_sample:
        return {
            **base,
            "verdict": "collecting",
            "note": f"Each variant needs {test.min_sample} clicks first.",
        }
    look = test.looks_done + 1
    fraction = min(fewest / test.max_sample, 1.0)
    ends = (test.started_at or now) + timedelta(days=test.duration_days)
    horizon = look >= test.max_looks or fraction >= 1 or now >= ends
    alpha = float(test.alpha)
    spent = stats.alpha_spent(
        rule=test.stopping_rule, alpha=alpha, look=look, max_looks=test.max_looks, fraction=fraction
    )
    spent = alpha if horizon else spent
    look_alpha = max(spent - float(test.alpha_spent), 0.0)
    estimates, comparisons = stats.compare(
        numbers, control_id=control.pk, metric=test.metric, look_alpha=look_alpha
    )
    winners = [c for c in comparisons if c.significant and c.better]
    value = {e.variant_id: e.value for e in estimates}
    winner = max(winners, key=lambda c: value[c.variant_id]).variant_id if winners else None
    if winner is None and comparisons and all(c.significant and not c.better for c in comparisons):
        winner = control.pk
    verdict = "winner" if winner else ("no_winner" if horizon else "continue")
    return {
        **base,
        "verdict": verdict,
        "winner": winner,
        "look": look,
        "horizon": horizon,
        "alpha_spent": round(spent, 6),
        "look_alpha": round(look_alpha, 6),
        "estimates": [
            {"variant": e.variant_id, "clicks": e.clicks, "value": e.value, "low": e.low, "high": e.high}
            for e in estimates
        ],
        "comparisons": [
            {"variant": c.variant_id, "lift": c.lift, "p_value": c.p_value, "significant": c.significant}
            for c in comparisons
        ],
    }


def ab_test_look(*, test_id: int, now: datetime | None = None, force: bool = False) -> dict[str, Any] | None:
    """Take the day's look at a running test (``force``: another one today); what it saw, or
    None when it was not due. A look that decides acts as the test's settings say."""
    now = now or timezone.now()
    with transaction.atomic():
        test = AbTest.objects.select_for_update().select_related("offer").get(pk=test_id)
        if test.status != AbTest.Status.RUNNING:
            return None
        if not force and test.last_look_at is not None and test.last_look_at.date() == now.date():
            return None
        look = _verdict(test, variant_numbers(test), now)
        test.last_look, test.last_look_at = look, now
        if look["verdict"] != "collecting":
            test.looks_done = look["look"]
            test.alpha_spent = Decimal(str(look["alpha_spent"]))
        test.save(update_fields=["last_look", "last_look_at", "looks_done", "alpha_spent", "updated_at"])
        if look["verdict"] == "winner" and test.auto_promote:
            _decide(test, AbDecision.Kind.PROMOTE, look["winner"], look, by=None)
        elif look["verdict"] == "no_winner":
            _decide(test, AbDecision.Kind.NO_WINNER, test.variants.get(is_control=True).pk, look, by=None)
        elif look["verdict"] == "winner":
            _notify(test, f"A/B test “{test.name}”: a winner is clear", "Promote it with one click.")
    return look


def _states(test: AbTest) -> dict[str, list[Any]]:
    return {str(v.pk): [v.status, v.weight] for v in test.variants.order_by("pk")}


def _decide(test: AbTest, kind: str, winner_id: int, look: dict[str, Any], by: Any) -> AbDecision:
    """Keep ``winner_id`` alone (losers paused): must hold the test's row lock."""
    before = {"variants": _states(test), "status": test.status, "keep_until": None}
    test.variants.exclude(pk=winner_id).update(status=AbVariant.Status.PAUSED)
    test.variants.filter(pk=winner_id).update(status=AbVariant.Status.ACTIVE)
    now = timezone.now()
    test.status = AbTest.Status.DECIDED if kind == AbDecision.Kind.PROMOTE else AbTest.Status.ENDED
    test.keep_until = now + timedelta(days=test.keep_winner_days)
    test.save(update_fields=["status", "keep_until", "updated_at"])  # evicts the cached links
    winner = test.variants.get(pk=winner_id)
    note = (
        f"{winner.label} promoted: it takes every click until {test.keep_until:%Y-%m-%d}; "
        "the others are paused."
        if kind == AbDecision.Kind.PROMOTE
        else f"No clear winner by the horizon: the control {winner.label} is kept."
    )
    decision = AbDecision.objects.create(
        test=test,
        kind=kind,
        winner=winner,
        automatic=by is None,
        decided_by=by,
        numbers=look,
        before=before,
        after={"variants": _states(test), "status": test.status},
        note=note,
    )
    _notify(test, f"A/B test “{test.name}”: {decision.get_kind_display().lower()}", note)
    return decision


def ab_test_promote(*, actor: Actor, test: AbTest, variant_id: int | None, by: Any) -> AbDecision:
    """One click: promote the last look's winner (or ``variant_id``, which must be live)."""
    if not may_manage(actor, test.offer):
        raise DomainError("You may not decide this test.", code="forbidden", status_code=403)
    with transaction.atomic():
        locked = AbTest.objects.select_for_update().get(pk=test.pk)
        if locked.status != AbTest.Status.RUNNING:
            raise Conflict("Only a running test can be decided.", code="not_running")
        chosen = variant_id or locked.last_look.get("winner")
        if not chosen:
            raise Conflict("No winner is clear yet; wait for the next look.", code="no_winner")
        if not locked.variants.filter(pk=chosen, status=AbVariant.Status.ACTIVE).exists():
            raise DomainError("That variant is not a live variant of this test.", code="bad_variant")
        return _decide(locked, AbDecision.Kind.PROMOTE, int(chosen), locked.last_look, by=by)


def ab_decision_undo(*, actor: Actor, decision: AbDecision, by: Any) -> AbDecision:
    """Restore the variants and the test as they were before the decision; the test runs again."""
    if not may_manage(actor, decision.test.offer):
        raise DomainError("You may not undo this decision.", code="forbidden", status_code=403)
    with transaction.atomic():
        test = AbTest.objects.select_for_update().get(pk=decision.test_id)
        if not AbDecision.objects.filter(pk=decision.pk, undone_at__isnull=True).update(
            undone_at=timezone.now(), undone_by=by
        ):
            raise Conflict("This decision was already undone.", code="already_undone")
        if test.status not in (AbTest.Status.DECIDED, AbTest.Status.ENDED) or (
            AbTest.objects.filter(offer=test.offer, status__in=("running", "decided"))
            .exclude(pk=test.pk)
            .exists()
        ):
            raise Conflict("The offer has moved on to another test.", code="superseded")
        for pk, (status, weight) in decision.before["variants"].items():
            AbVariant.objects.filter(test=test, pk=int(pk)).update(status=status, weight=weight)
        test.status, test.keep_until = decision.before["status"], None
        test.save(update_fields=["status", "keep_until", "updated_at"])
    decision.refresh_from_db()
    return decision


def ab_variant_weight_set(*, variant: AbVariant, weight: int) -> None:
    """A variant's weight (budget shifts); the save's signal evicts the cached links."""
    variant.weight = weight
    variant.save(update_fields=["weight"])


def ab_tests_due(*, now: datetime) -> QuerySet[AbTest]:
    return AbTest.objects.filter(status=AbTest.Status.RUNNING).exclude(last_look_at__date=now.date())


def _notify(test: AbTest, title: str, body: str) -> None:
    people = list(get_user_model().objects.filter(advertisers=test.offer.advertiser_id, is_active=True))
    if test.created_by is not None:
        people.append(test.created_by)
    link = reverse("experiments_portal:ab-test", args=[test.pk])
    notifications_create(recipients=people, title=title, body=body, link=link)
