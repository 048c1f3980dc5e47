"""A holdout test's report: per-arm numbers, lift with intervals, incremental conversions and
their cost, power, the sequential rule's verdict, modelled incrementality beside it, and the
whole explained in plain words. A stopped test's page shows the report stored when it stopped
(``HoldoutTest.result``); a running one's is computed when asked.

Incremental conversions are the exposed arm's conversions beyond what the control arm's rate
predicts for as many visitors: ``x_e - cvr_c * n_e``, with the absolute lift's interval
scaled the same way. Their cost is what the advertiser paid for the exposed arm's conversions
(commission revenue, in the offer's currency), divided by them.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Sum
from django.utils import timezone

from affiliates.core.money import money_round
from payouts.incrementality import stats
from payouts.incrementality.modelled import modelled_incrementality
from payouts.models import Commission, CommissionStatus
from tracking.holdouts.selectors import arm_counts, measured_conversions
from tracking.models.holdouts import HoldoutArm, HoldoutTest


def _exposed_cost(test: HoldoutTest) -> tuple[Decimal, Decimal]:
    """(advertiser cost, publisher payout) of the exposed arm's conversions."""
    exposed = measured_conversions(test).filter(click__holdout_arm=HoldoutArm.EXPOSED)
    sums = Commission.objects.filter(
        conversion__in=exposed, status__in=(CommissionStatus.PENDING, CommissionStatus.APPROVED)
    ).aggregate(revenue=Sum("revenue"), payout=Sum("payout"))
    return sums["revenue"] or Decimal(0), sums["payout"] or Decimal(0)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.2f} %"


def _signed_pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:+.1f} %"


def explain(test: HoldoutTest, report: dict[str, Any]) -> list[str]:
    """The test in plain words: what was compared, what was found, how sure."""
    r, p = report["lift"], report["power"]
    who = ", ".join(report["publisher_names"]) or "every publisher of the offer"
    neutral = test.control == HoldoutTest.Control.NEUTRAL
    control = "a neutral page" if neutral else "the landing page without the promotion"
    lines = [
        f"What was compared: visitors sent by {who} to “{test.offer.name}”. "
        f"{float(test.holdout_share) * 100:.0f} % of them, chosen at random, were held out and sent to "
        f"{control}; the rest went to the offer as usual.",
        f"The exposed visitors converted at {_pct(r['cvr_exposed'])} ({r['conversions_exposed']} of "
        f"{r['visitors_exposed']}), the held-out ones at {_pct(r['cvr_control'])} "
        f"({r['conversions_control']} of {r['visitors_control']}).",
    ]
    if r["absolute_lift"] is None:
        lines.append("What was found: nothing yet; both arms need visitors before they can be compared.")
        return lines
    ci = r["relative_lift_ci"]
    rel = _signed_pct(r["relative_lift"])
    span = f" (95 % interval {_signed_pct(ci[0])} to {_signed_pct(ci[1])})" if ci else ""
    lines.append(
        f"What was found: the promotion changed the conversion rate by {rel}{span}, about "
        f"{report['incremental_conversions']:.0f} conversions that would not have happened without it"
        + (
            f", at {report['cost_per_incremental']} {report['currency']} each."
            if report["cost_per_incremental"] is not None
            else "."
        )
    )
    low, high = r["absolute_lift_ci"]
    if low > 0:
        sure = "The interval is above zero: the publishers' traffic clearly adds conversions."
    elif high < 0:
        sure = "The interval is below zero: the exposed visitors converted clearly less."
    else:
        sure = "The interval includes zero: the data cannot yet tell a real lift from chance."
    if p["power"] is not None:
        sure += (
            f" With the visitors so far the test had a {p['power'] * 100:.0f} % chance of detecting a "
            f"{float(test.minimum_lift) * 100:.0f} % lift"
            + (
                "; that is enough."
                if p["enough"]
                else f"; about {p['visitors_needed']} visitors are needed for 80 %."
            )
        )
    lines.append("How sure: " + sure)
    return lines


def holdout_report(*, test: HoldoutTest, now: datetime | None = None) -> dict[str, Any]:
    """The report as JSON-ready data (stored as the test's result when it stops)."""
    now = now or timezone.now()
    counts = arm_counts(test=test, now=now)
    exposed, control = counts[HoldoutArm.EXPOSED], counts[HoldoutArm.CONTROL]
    result = stats.lift(
        x_e=exposed.conversions, n_e=exposed.visitors, x_c=control.conversions, n_c=control.visitors
    )
    plan = stats.power(
        baseline=result.cvr_control,
        minimum_lift=float(test.minimum_lift),
        share=float(test.holdout_share),
        n_e=exposed.visitors,
        n_c=control.visitors,
    )
    verdict = stats.sequential_verdict(result, plan, minimum_lift=float(test.minimum_lift))
    incremental = None
    incremental_ci = None
    if result.cvr_control is not None and result.absolute_lift_ci is not None:
        incremental = result.conversions_exposed - result.cvr_control * result.visitors_exposed
        incremental_ci = tuple(bound * result.visitors_exposed for bound in result.absolute_lift_ci)
    currency = test.offer.currency
    cost, payout = _exposed_cost(test)
    per_incremental = (
        str(money_round(cost / Decimal(str(round(incremental, 6))), currency))
        if incremental is not None and incremental >= 1
        else None
    )
    publishers = list(test.publishers.all())
    modelled = [
        m.as_dict()
        for m in modelled_incrementality(offer=test.offer, start=test.starts_at, end=min(now, test.ends_at))
        if not publishers or m.publisher_id in {p.pk for p in publishers}
    ]
    report: dict[str, Any] = {
        "computed_at": now.isoformat(),
        "currency": currency,
        "publisher_names": [p.name for p in publishers],
        "lift": result.as_dict(),
        "power": plan.as_dict(),
        "sequential": verdict.as_dict(),
        "incremental_conversions": incremental,
        "incremental_conversions_ci": incremental_ci,
        "exposed_cost": str(money_round(cost, currency)),
        "exposed_payout": str(money_round(payout, currency)),
        "cost_per_incremental": per_incremental,
        "modelled": modelled,
    }
    report["explanation"] = explain(test, report)
    return report


def holdout_report_current(*, test: HoldoutTest) -> dict[str, Any]:
    """A stopped test's stored result, a running one's computed now."""
    if test.status == HoldoutTest.Status.STOPPED and test.result:
        stored: dict[str, Any] = test.result
        return stored
    return holdout_report(test=test)
