"""The demo network's money, made by the product's own services on a replayed clock.

``demo_money_settle`` walks the demo window one UTC day at a time. Each step's ``now`` is the
end of that day (the last step's is the caller's now), and it does what the periodic jobs and
the people of a network would have done that day:

1. reconciliation (payouts.reconcile, payouts.traffic) turns the day's conversions into
   commissions and its clicks and impressions into CPC/CPM daily lines, with ledger entries;
2. advertisers approve most conversions within a few days, reject some and reverse a few
   (refunds, chargebacks), and staff clear or reject those held for fraud review, each with a
   reason (payouts.services.commissions_set_status);
3. commissions whose hold has passed are approved (commissions_approve_due).

Then last month's payout run is built, approved and marked paid (payouts.payout_runs), and an
advertiser refunds an order that was already paid out, by a status postback (tracking) that
reconciliation follows: the next run nets it against what that publisher earns.

``demo_activity_build`` is the whole of it for seed_demo (and for tests wanting a lived-in
network): raw traffic (tracking.demo), then the money, then the optimisation and measurement
features (payouts.demo.features), then the report rollups and the features' jobs.

Stamping each step with its day is what makes the result look lived-in: the ledger entries of
last month's approvals are dated last month, so last month's run pays them.

Who decides what, and when, is drawn from the conversion's id, so a replay decides the same.
Idempotent: every step acts only on what is still in the state it changes (an unreconciled
conversion, a pending commission whose decision is due, a run not yet paid), and the services
underneath are idempotent themselves; a second run on the same data changes nothing.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Max, Q
from django.utils import timezone

from affiliates.models import FxRate, Offer
from affiliates.roles import Actor, Role
from payouts.demo import features
from payouts.ledger import publisher_balances
from payouts.models import Commission, CommissionStatus, Payout, PayoutRun
from payouts.payout_build import payout_run_build, payout_run_start
from payouts.payout_runs import payout_run_approve, payout_run_mark_paid
from payouts.periods import period_end, period_label, period_of, period_previous
from payouts.reconcile import conversions_reconcile
from payouts.reports.customers.services import customer_value_refresh
from payouts.reports.services import rollups_rebuild_all
from payouts.services import commissions_approve_due, commissions_set_status
from payouts.traffic import traffic_reconcile
from tracking.conversions.status import status_update_outcome
from tracking.demo import DEFAULT_CLICKS, DemoTrafficResult, demo_traffic_generate
from tracking.models import Conversion

S = CommissionStatus
APPROVE_REASONS = {
    "cps": "order shipped",
    "cpa": "subscription confirmed",
    "cpl": "lead qualified by the sales team",
    "cpi": "install validated by the attribution partner",
}
REJECT_REASONS = {
    "cps": ["duplicate order", "order cancelled before shipping", "test order"],
    "cpa": ["trial cancelled within 24 hours", "duplicate account"],
    "cpl": ["lead did not qualify", "duplicate lead"],
    "cpi": ["install not confirmed by the attribution partner"],
}
REVERSE_REASONS = {
    "cps": ["refund", "chargeback"],
    "cpa": ["subscription refunded"],
    "cpl": ["lead found to be fraudulent"],
    "cpi": ["install flagged by the attribution partner's fraud scan"],
}
# Advertisers validate, reject and refund in batches on Mondays and Thursdays; staff review
# held conversions every weekday.
ADVERTISER_DAYS = (0, 3)
STAFF_DAYS = (0, 1, 2, 3, 4)
REVIEW_APPROVE = "fraud review: traffic verified with the publisher"
REVIEW_REJECT = "fraud review: invalid traffic"


@dataclass
class DemoMoneyResult:
    commissions_created: int = 0
    daily_lines_created: int = 0
    decided: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # status -> count
    run: PayoutRun | None = None
    payouts_paid: int = 0
    refunds_after_payout: int = 0

    @property
    def changed(self) -> bool:
        return bool(
            self.commissions_created
            or self.daily_lines_created
            or any(self.decided.values())
            or self.payouts_paid
            or self.refunds_after_payout
        )


@dataclass(frozen=True)
class _Plan:
    """What happens to one conversion's commission, and how long after the conversion."""

    outcome: str  # "approved" or "rejected" by the advertiser, or "hold": left to the hold
    decide_after: timedelta
    reverse_after: timedelta | None
    pick: float  # chooses among the reasons

    def reason(self, table: dict[str, list[str]], payout_type: str) -> str:
        reasons = table.get(payout_type) or ["other"]
        return reasons[int(self.pick * len(reasons))]


def _plan(conversion_id: int) -> _Plan:
    digest = hashlib.sha256(f"demo-money:{conversion_id}".encode()).digest()
    u = [int.from_bytes(digest[i : i + 4], "big") / 2**32 for i in range(0, 20, 4)]
    outcome = "rejected" if u[0] < 0.07 else "approved" if u[0] < 0.6 else "hold"
    return _Plan(
        outcome=outcome,
        decide_after=timedelta(hours=8 + u[1] * 88),
        reverse_after=timedelta(days=4 + u[3] * 20) if outcome != "rejected" and u[2] < 0.06 else None,
        pick=u[4],
    )


def _day_end(day: date) -> datetime:
    # One second before midnight: a last-day-of-month step must stay inside its month.
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC) - timedelta(seconds=1)


def _reconcile_until(at: datetime, result: DemoMoneyResult) -> None:
    """What the periodic reconciliation had done by ``at``: conversions recorded until then
    (their ids follow time, see tracking.demo), and that day's CPC/CPM lines."""
    until_id = Conversion.objects.filter(created_at__lte=at).aggregate(top=Max("id"))["top"]
    if until_id is not None:
        result.commissions_created += conversions_reconcile(until_id=until_id, now=at).created
    lines = traffic_reconcile(day_from=at.date(), day_to=at.date(), now=at)
    result.daily_lines_created += lines.get("created", 0)


def _decisions_due(at: datetime, staff: Actor) -> dict[tuple[Actor, str, str], list[int]]:
    """Advertisers' and staff's decisions due by ``at`` and taken on that weekday, grouped
    into one call each."""
    due: dict[tuple[Actor, str, str], list[int]] = defaultdict(list)
    advertisers_work, staff_works = at.weekday() in ADVERTISER_DAYS, at.weekday() in STAFF_DAYS
    if not (advertisers_work or staff_works):
        return due
    # Commissions as they stood when this step began: a replay must not act on what a later
    # step did (Friday's approval does not make Thursday's refund due), nor on this step's own
    # approvals, which come after its decisions. Pending is where every commission starts, so
    # one pending now was pending then.
    rows = (
        Commission.objects.filter(
            Q(status=S.PENDING) | Q(status=S.APPROVED, approved_at__lt=at),
            kind=Commission.Kind.CONVERSION,
            conversion__created_at__lte=at,
        )
        .exclude(
            # The features' conversions (payouts.demo.features) are written after the replay: a
            # later replay deciding them on an earlier day would rewrite the past.
            conversion__trace__has_key="feature"
        )
        .values_list(
            "id",
            "conversion_id",
            "advertiser_id",
            "status",
            "held_for_review",
            "conversion__created_at",
            "goal__payout_type",
        )
    )
    for pk, conversion_id, advertiser_id, status, held, created, payout_type in rows:
        plan = _plan(conversion_id)
        advertiser = Actor(role=Role.ADVERTISER, advertiser_id=advertiser_id)
        if status == S.APPROVED:
            if advertisers_work and plan.reverse_after is not None and created + plan.reverse_after <= at:
                due[(advertiser, S.REVERSED, plan.reason(REVERSE_REASONS, payout_type))].append(pk)
        elif created + plan.decide_after > at or not (staff_works if held else advertisers_work):
            continue
        elif held:
            key = (
                (staff, S.APPROVED, REVIEW_APPROVE) if plan.pick < 0.4 else (staff, S.REJECTED, REVIEW_REJECT)
            )
            due[key].append(pk)
        elif plan.outcome == "approved":
            due[(advertiser, S.APPROVED, APPROVE_REASONS.get(payout_type, "approved"))].append(pk)
        elif plan.outcome == "rejected":
            due[(advertiser, S.REJECTED, plan.reason(REJECT_REASONS, payout_type))].append(pk)
    return due


def _decide(at: datetime, staff: Actor, result: DemoMoneyResult) -> None:
    for (actor, status, reason), ids in sorted(_decisions_due(at, staff).items(), key=lambda kv: str(kv[0])):
        changed = commissions_set_status(
            commission_ids=ids, status=status, reason=reason, actor=actor, now=at
        )
        result.decided[status] += len(changed)
    result.decided[S.APPROVED] += commissions_approve_due(now=at)


def _payout_run_pay(period: date, staff_user: Any, result: DemoMoneyResult) -> PayoutRun:
    """Build, approve and pay the period's run, as staff would from the admin (each step is
    idempotent, so a run already paid is left as it is)."""
    run, _ = payout_run_start(period=period)
    payout_run_build(run_id=run.pk)
    run.refresh_from_db()
    if run.status == PayoutRun.Status.DRAFT:
        run = payout_run_approve(run=run, user=staff_user)
    if run.status == PayoutRun.Status.APPROVED:
        to_pay = list(Payout.objects.filter(run=run, status=Payout.Status.APPROVED))
        references = {p.pk: f"{p.method.upper()}-{period:%Y%m}-{p.publisher_id:04d}" for p in to_pay}
        if references:
            run = payout_run_mark_paid(run=run, references=references)
        result.payouts_paid += len(to_pay)
    return run


def _refund_after_payout(run: PayoutRun) -> int:
    """An advertiser refunds an order of the paid period: a status postback, then
    reconciliation. Picked where it hurts most: the paid publisher whose balance it takes
    lowest, below zero when what they earned since is less than the refund."""
    end = period_end(run.period)
    if run.status != PayoutRun.Status.PAID or run.paid_at is None:
        return 0
    period_commissions = Commission.objects.filter(kind=Commission.Kind.CONVERSION, day__lt=end.date())
    if period_commissions.filter(status=S.REVERSED, reversed_at__gte=run.paid_at).exists():
        return 0  # done by an earlier run
    best: tuple[Decimal, Commission] | None = None
    for payout in Payout.objects.filter(run=run, status=Payout.Status.PAID).order_by("id"):
        largest = (
            period_commissions.filter(
                publisher_id=payout.publisher_id,
                currency=payout.currency,
                status=S.APPROVED,
                approved_at__lt=end,
            )
            .order_by("-payout", "id")
            .first()
        )
        if largest is None:
            continue
        balance = publisher_balances(publisher_id=payout.publisher_id).get(payout.currency, Decimal("0"))
        if best is None or largest.payout - balance > best[0]:
            best = (largest.payout - balance, largest)
    if best is None or best[1].conversion is None:
        return 0
    conversion = best[1].conversion
    status_update_outcome(
        conversion=conversion, to_status=S.REVERSED, advertiser_id=conversion.advertiser_id or 0
    )
    return conversions_reconcile().changed


# Reference rates so balances in another currency than the publisher's are paid, not held
# for want of a rate. Fixed valid_from: reseeding later never adds a second row.
DEMO_FX_RATES = [
    ("EUR", "USD", Decimal("1.0850")),
    ("GBP", "USD", Decimal("1.2700")),
    ("EUR", "GBP", Decimal("0.8540")),
]
DEMO_FX_FROM = datetime(2020, 1, 1, tzinfo=UTC)


def _fx_rates_seed() -> None:
    for base, quote, rate in DEMO_FX_RATES:
        FxRate.objects.get_or_create(base=base, quote=quote, valid_from=DEMO_FX_FROM, defaults={"rate": rate})


def demo_money_settle(*, first_day: date, now: datetime | None = None, staff_user: Any) -> DemoMoneyResult:
    """Replay [first_day, now] through reconciliation and the commission lifecycle, then pay
    the previous month's run and refund one paid order."""
    now = now or timezone.now()
    staff = Actor(role=Role.STAFF, user_id=getattr(staff_user, "pk", None))
    result = DemoMoneyResult()
    _fx_rates_seed()
    day = first_day
    while day <= now.date():
        at = min(_day_end(day), now)
        _reconcile_until(at, result)
        _decide(at, staff, result)
        day += timedelta(days=1)
    period = period_previous(period_of(now))
    if first_day < period_end(period).date():  # the window has some of last month
        result.run = _payout_run_pay(period, staff_user, result)
        result.refunds_after_payout = _refund_after_payout(result.run)
    return result


@dataclass(frozen=True)
class DemoActivity:
    traffic: DemoTrafficResult
    money: DemoMoneyResult
    rollup_hours: int  # 0: nothing changed, the rollups were left as they were


def demo_activity_build(
    *,
    days: int,
    staff_user: Any,
    clicks_per_link_per_day: int = DEFAULT_CLICKS,
    now: datetime | None = None,
    offers: dict[str, Offer] | None = None,
) -> DemoActivity:
    """``days`` of traffic ending ``now``, settled, and the report rollups rebuilt over them;
    with the demo network's ``offers``, its optimisation and measurement features too."""
    now = now or timezone.now()
    traffic = demo_traffic_generate(days=days, clicks_per_link_per_day=clicks_per_link_per_day, now=now)
    money = demo_money_settle(first_day=traffic.first_day, now=now, staff_user=staff_user)
    # The optimisation and measurement features (seed_demo's network has Acme's offers):
    # their traffic is reconciled at ``now``, after the replay, so conversion ids keep
    # following time within it (see _reconcile_until).
    extra, feature_clicks = None, 0
    if offers is not None:
        extra = features.features_setup(offers=offers, now=now, staff_user=staff_user)
        feature_clicks = features.features_traffic(extra, now=now)
    hours = 0
    if traffic.days_written or money.changed or feature_clicks:
        start = datetime.combine(traffic.first_day, time.min, tzinfo=UTC)
        # Up to the current time: the refund after payout happened after ``now``.
        hours = rollups_rebuild_all(start=start, end=max(now, timezone.now()))
        customer_value_refresh(full=True)
        if extra is not None:
            features.features_compute(extra, now=now)
    return DemoActivity(traffic=traffic, money=money, rollup_hours=hours)


def demo_money_summary(result: DemoMoneyResult) -> str:
    decided = ", ".join(f"{n} {status}" for status, n in sorted(result.decided.items()) if n) or "none"
    run = (
        f"payout run {period_label(result.run.period)} {result.run.status}, "
        f"{result.payouts_paid} payouts paid now"
        if result.run
        else "no payout run"
    )
    return (
        f"{result.commissions_created} commissions and {result.daily_lines_created} CPC/CPM daily lines "
        f"created; decisions: {decided}; {run}; refunds after payout: {result.refunds_after_payout}"
    )
