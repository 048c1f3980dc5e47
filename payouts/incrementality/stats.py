"""The statistics of a holdout test, all from scipy.stats (no hand-written distributions).

- Conversion rate per arm with Wilson score intervals (``scipy.stats.binomtest(...).proportion_ci``).
- Absolute lift (exposed - control) with Newcombe's hybrid score interval, built from the two
  Wilson intervals: it keeps its coverage with small counts, where the Wald interval does not.
- Relative lift (exposed / control - 1) from the relative risk's interval
  (``scipy.stats.contingency.relative_risk``, the log method).
- The two-proportion z statistic (pooled) for the sequential rule, with its p-value.
- Power to detect the owner's minimum relative lift at the current sizes (Cohen's h, normal
  approximation), and the visitors needed for 80 % power at the test's holdout share.
- The sequential rule: an O'Brien-Fleming-shaped boundary on the information fraction
  (visitors so far / visitors needed), z_(alpha/2) / sqrt(t): very strict early, close to the
  fixed test's 1.96 at full size, so looking every hour does not inflate false positives the
  way repeated fixed tests would. It stops early when the boundary is crossed (the lift is
  clear), or when the planned size is reached and the interval rules out the minimum lift
  (clearly too small to matter). Never before 10 % of the planned information.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from affiliates.core.scipy_stats import scipy_stats

CONFIDENCE = 0.95
ALPHA = 1 - CONFIDENCE
TARGET_POWER = 0.8
MIN_INFORMATION = 0.1


@dataclass(frozen=True)
class Lift:
    visitors_exposed: int
    conversions_exposed: int
    visitors_control: int
    conversions_control: int
    cvr_exposed: float | None
    cvr_exposed_ci: tuple[float, float] | None
    cvr_control: float | None
    cvr_control_ci: tuple[float, float] | None
    absolute_lift: float | None
    absolute_lift_ci: tuple[float, float] | None
    relative_lift: float | None
    relative_lift_ci: tuple[float, float] | None
    z: float | None
    p_value: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _rate(x: int, n: int) -> tuple[float | None, tuple[float, float] | None]:
    if n <= 0:
        return None, None
    ci = scipy_stats().binomtest(min(x, n), n).proportion_ci(confidence_level=CONFIDENCE, method="wilson")
    return min(x, n) / n, (float(ci.low), float(ci.high))


def _relative(x_e: int, n_e: int, x_c: int, n_c: int) -> tuple[float | None, tuple[float, float] | None]:
    if n_e <= 0 or n_c <= 0 or x_c <= 0:
        return None, None  # no baseline conversions: a ratio to zero has no meaning
    rr = scipy_stats().contingency.relative_risk(min(x_e, n_e), n_e, min(x_c, n_c), n_c)
    if x_e <= 0:
        return rr.relative_risk - 1, None
    ci = rr.confidence_interval(confidence_level=CONFIDENCE)
    return float(rr.relative_risk) - 1, (float(ci.low) - 1, float(ci.high) - 1)


def _z(x_e: int, n_e: int, x_c: int, n_c: int) -> tuple[float | None, float | None]:
    pooled = (x_e + x_c) / (n_e + n_c) if n_e and n_c else 0.0
    if pooled <= 0 or pooled >= 1:
        return None, None
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_e + 1 / n_c))
    z = (x_e / n_e - x_c / n_c) / se
    return z, float(2 * scipy_stats().norm.sf(abs(z)))


def lift(*, x_e: int, n_e: int, x_c: int, n_c: int) -> Lift:
    """Everything the report says about the difference between the arms."""
    x_e, x_c = min(x_e, n_e), min(x_c, n_c)
    p_e, ci_e = _rate(x_e, n_e)
    p_c, ci_c = _rate(x_c, n_c)
    absolute, absolute_ci = None, None
    if p_e is not None and p_c is not None and ci_e is not None and ci_c is not None:
        absolute = p_e - p_c
        # Newcombe (1998), method 10: the hybrid score interval of a difference.
        low = absolute - math.sqrt((p_e - ci_e[0]) ** 2 + (ci_c[1] - p_c) ** 2)
        high = absolute + math.sqrt((ci_e[1] - p_e) ** 2 + (p_c - ci_c[0]) ** 2)
        absolute_ci = (low, high)
    relative, relative_ci = _relative(x_e, n_e, x_c, n_c)
    z, p_value = _z(x_e, n_e, x_c, n_c)
    return Lift(
        n_e, x_e, n_c, x_c, p_e, ci_e, p_c, ci_c, absolute, absolute_ci, relative, relative_ci, z, p_value
    )


@dataclass(frozen=True)
class Power:
    power: float | None  # to detect the minimum lift with the visitors so far
    visitors_needed: int | None  # in both arms together, for TARGET_POWER
    information: float  # visitors so far / visitors needed (capped at 1)
    enough: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def power(*, baseline: float | None, minimum_lift: float, share: float, n_e: int, n_c: int) -> Power:
    """Power to detect a relative lift of ``minimum_lift`` over the ``baseline`` rate, at a
    two-sided 5 % level, with these arm sizes; and the total needed for 80 % at this share."""
    if not baseline or baseline <= 0 or baseline >= 1:
        return Power(None, None, 0.0, enough=False)
    target = min(baseline * (1 + minimum_lift), 0.999999)
    h = abs(2 * math.asin(math.sqrt(target)) - 2 * math.asin(math.sqrt(baseline)))
    z_alpha = float(scipy_stats().norm.ppf(1 - ALPHA / 2))
    z_beta = float(scipy_stats().norm.ppf(TARGET_POWER))
    effective = n_e * n_c / (n_e + n_c) if n_e and n_c else 0.0
    achieved = float(scipy_stats().norm.cdf(h * math.sqrt(effective) - z_alpha)) if effective else 0.0
    needed = math.ceil(((z_alpha + z_beta) / h) ** 2 / (share * (1 - share)))
    information = min(1.0, (n_e + n_c) / needed) if needed else 1.0
    return Power(achieved, needed, information, enough=achieved >= TARGET_POWER)


@dataclass(frozen=True)
class Verdict:
    stop: bool
    reason: str  # "lift", "no_lift" (clearly below the minimum) or "" (keep going)
    boundary: float | None  # the |z| that would stop it now

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def sequential_verdict(result: Lift, plan: Power, *, minimum_lift: float) -> Verdict:
    """Does the sequential rule find the answer clear at this look?"""
    t = plan.information
    if result.z is None or t < MIN_INFORMATION:
        return Verdict(False, "", None)
    boundary = float(scipy_stats().norm.ppf(1 - ALPHA / 2)) / math.sqrt(t)
    if abs(result.z) >= boundary:
        return Verdict(True, "lift", boundary)
    rel_ci = result.relative_lift_ci
    if t >= 1 and rel_ci is not None and rel_ci[1] < minimum_lift:
        return Verdict(True, "no_lift", boundary)
    return Verdict(False, "", boundary)
