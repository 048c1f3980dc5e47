"""The statistics of an A/B test's look: per-variant metric with its confidence interval, each
challenger against the control, and the stopping rule's alpha for this look. scipy does every
distribution; nothing here is hand-written maths beyond sums.

Metrics are per click: CVR (a proportion: Wilson interval; chi-squared test of the 2x2 table,
Fisher's exact test when an expected cell is under 5) and EPC or revenue per click (a mean of
per-click values, mostly zeros: t interval; Welch's t test from the sums and sums of squares).

Stopping rules, both keeping the overall false-positive rate at ``alpha``:
- fixed horizon: ``alpha / max_looks`` at each planned look (Bonferroni across looks);
- sequential: Lan-DeMets O'Brien-Fleming alpha spending on the information fraction
  ``t = clicks / max_sample``: ``a(t) = 2 - 2 Phi(z_{1-alpha/2} / sqrt(t))``; a look may use what
  was spent since the previous one (spending the increments as Bonferroni pieces is
  conservative), so early looks need overwhelming evidence and the last one nearly ``alpha``.
Both then split the look's alpha across the challengers (Bonferroni across comparisons).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from affiliates.core.scipy_stats import scipy_stats

CVR, EPC, RPC = "cvr", "epc", "rpc"


@dataclass(frozen=True)
class Numbers:
    """One variant's totals: clicks, converting clicks, and the per-click value's sum and sum of
    squares (payout for EPC, revenue for revenue per click)."""

    variant_id: int
    clicks: int
    conversions: int
    value: float
    value_sq: float


@dataclass(frozen=True)
class Estimate:
    variant_id: int
    clicks: int
    value: float  # the metric
    low: float
    high: float


@dataclass(frozen=True)
class Comparison:
    variant_id: int
    lift: float | None  # relative to the control (None: the control's metric is 0)
    p_value: float
    significant: bool
    better: bool


def estimate(n: Numbers, metric: str, confidence: float = 0.95) -> Estimate:
    if n.clicks == 0:
        return Estimate(n.variant_id, 0, 0.0, 0.0, 0.0)
    if metric == CVR:
        k = min(n.conversions, n.clicks)
        ci = scipy_stats().binomtest(k, n.clicks).proportion_ci(confidence_level=confidence, method="wilson")
        return Estimate(n.variant_id, n.clicks, k / n.clicks, float(ci.low), float(ci.high))
    mean, sd = _mean_sd(n)
    if n.clicks < 2 or sd == 0:
        return Estimate(n.variant_id, n.clicks, mean, mean, mean)
    low, high = scipy_stats().t.interval(confidence, n.clicks - 1, loc=mean, scale=sd / math.sqrt(n.clicks))
    return Estimate(n.variant_id, n.clicks, mean, float(low), float(high))


def _mean_sd(n: Numbers) -> tuple[float, float]:
    mean = n.value / n.clicks
    if n.clicks < 2:
        return mean, 0.0
    var = max(n.value_sq - n.clicks * mean * mean, 0.0) / (n.clicks - 1)
    return mean, math.sqrt(var)


def p_value(control: Numbers, other: Numbers, metric: str) -> float:
    """Two-sided p-value of the difference between two variants on ``metric``."""
    if control.clicks == 0 or other.clicks == 0:
        return 1.0
    if metric == CVR:
        a, b = min(control.conversions, control.clicks), min(other.conversions, other.clicks)
        table = [[a, control.clicks - a], [b, other.clicks - b]]
        if a + b == 0:
            return 1.0
        _, p, _, expected = scipy_stats().chi2_contingency(table, correction=False)
        if (expected < 5).any():
            return float(scipy_stats().fisher_exact(table).pvalue)
        return float(p)
    (m1, s1), (m2, s2) = _mean_sd(control), _mean_sd(other)
    if s1 == 0 and s2 == 0:
        return 1.0 if m1 == m2 else 0.0
    result = scipy_stats().ttest_ind_from_stats(m1, s1, control.clicks, m2, s2, other.clicks, equal_var=False)
    return float(result.pvalue)


def alpha_spent(*, rule: str, alpha: float, look: int, max_looks: int, fraction: float) -> float:
    """The cumulative alpha a rule allows by this look (``look`` counted from 1)."""
    if rule == "sequential":
        t = min(max(fraction, 1e-9), 1.0)
        z = scipy_stats().norm.ppf(1 - alpha / 2)
        return float(2 - 2 * scipy_stats().norm.cdf(z / math.sqrt(t)))
    return alpha * min(look, max_looks) / max_looks


def compare(
    numbers: list[Numbers], *, control_id: int, metric: str, look_alpha: float
) -> tuple[list[Estimate], list[Comparison]]:
    """Every variant's estimate and each challenger against the control at ``look_alpha``
    split across the challengers."""
    by_id = {n.variant_id: n for n in numbers}
    control = by_id[control_id]
    challengers = [n for n in numbers if n.variant_id != control_id]
    per_comparison = look_alpha / max(len(challengers), 1)
    base = estimate(control, metric).value
    comparisons = []
    for n in challengers:
        p = p_value(control, n, metric)
        value = estimate(n, metric).value
        lift = (value - base) / base if base else None
        comparisons.append(Comparison(n.variant_id, lift, p, p < per_comparison, value > base))
    return [estimate(n, metric) for n in numbers], comparisons
