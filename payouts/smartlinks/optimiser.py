"""The bandit: from each path's numbers to new weights. Pure: no database, one seeded generator.

Thompson sampling, as probability matching: each path's KPI per click gets a posterior, we draw
``DRAWS`` samples of every posterior at once (numpy, scipy.stats) and give each path the share
of draws in which it was best. A floor share per live path keeps every path learning (a path
that looked bad early keeps a trickle of traffic, so it can recover). The click path then makes
one weighted draw per click with these weights (clickpath/smart.py): the per-click Thompson
draw is done ahead of time, which is what keeps the click as fast as a plain one.

Posteriors per KPI:

- ``cvr``: conversions / clicks, Beta(1 + conversions, 1 + clicks - conversions).
- ``epc``, ``rpc``, ``profit`` (payout, revenue, revenue - payout per click): the conversion
  rate's Beta times the value per conversion. The value's mean gets a Gamma posterior around
  the observed mean, shape 1 + conversions (its relative spread shrinks as 1/sqrt(conversions));
  a path with no conversion yet borrows the mean of all paths, so it is explored, not zeroed.
  A negative profit keeps its sign.

The conservative mode (``conservative_shift``) is the practice's weekly move: rank the live
paths by their KPI, and move ``shift`` (20-30 %) of each loser's weight (bottom half) to the
winners (top half), in proportion to the winners' weights, never below the floor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from affiliates.core.scipy_stats import scipy_stats

DRAWS = 4000


@dataclass(frozen=True)
class PathNumbers:
    path_id: int
    clicks: int
    conversions: int
    revenue: float
    payout: float

    def value(self, kpi: str) -> float:
        """The KPI's total value (conversions for cvr, else money)."""
        if kpi == "cvr":
            return float(self.conversions)
        if kpi == "epc":
            return self.payout
        if kpi == "rpc":
            return self.revenue
        return self.revenue - self.payout

    def per_click(self, kpi: str) -> float:
        return self.value(kpi) / self.clicks if self.clicks else 0.0


def posterior_draws(paths: list[PathNumbers], *, kpi: str, rng: np.random.Generator) -> np.ndarray:
    """DRAWS samples of each path's KPI per click: an array (DRAWS, paths)."""
    clicks = np.array([max(p.clicks, p.conversions) for p in paths], dtype=float)
    conv = np.array([p.conversions for p in paths], dtype=float)
    rate = scipy_stats().beta(1 + conv, 1 + clicks - conv).rvs(size=(DRAWS, len(paths)), random_state=rng)
    if kpi == "cvr":
        return np.asarray(rate)
    values = np.array([p.value(kpi) for p in paths], dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        means = np.where(conv > 0, values / np.maximum(conv, 1), np.nan)
    prior = float(np.nanmean(means)) if np.any(conv > 0) else 1.0
    means = np.where(np.isnan(means), prior, means)
    shape = 1 + conv
    spread = scipy_stats().gamma(shape, scale=1 / shape).rvs(size=(DRAWS, len(paths)), random_state=rng)
    return np.asarray(rate * means * spread)


def floor_apply(shares: np.ndarray, floor: float) -> np.ndarray:
    """Shares with every path given at least ``floor`` (equal shares when floors fill it all)."""
    n = len(shares)
    if floor * n >= 1:
        return np.full(n, 1 / n)
    return floor + (1 - floor * n) * shares


def thompson_shares(
    paths: list[PathNumbers], *, kpi: str, floor: float, rng: np.random.Generator
) -> dict[int, float]:
    """Each path's share of traffic: the probability it is best, floored."""
    draws = posterior_draws(paths, kpi=kpi, rng=rng)
    best = np.bincount(np.argmax(draws, axis=1), minlength=len(paths)) / DRAWS
    shares = floor_apply(best, floor)
    return {p.path_id: float(s) for p, s in zip(paths, shares, strict=True)}


def conservative_shift(
    paths: list[PathNumbers], weights: dict[int, float], *, kpi: str, shift: float, floor: float
) -> dict[int, float]:
    """Shares after moving ``shift`` of the losers' traffic to the winners."""
    total = sum(weights.get(p.path_id, 0.0) for p in paths) or 1.0
    shares = {p.path_id: weights.get(p.path_id, 0.0) / total for p in paths}
    ranked = sorted(paths, key=lambda p: p.per_click(kpi), reverse=True)
    half = len(ranked) // 2
    winners, losers = ranked[:half], ranked[len(ranked) - half :]
    moved = 0.0
    for p in losers:
        give = min(shares[p.path_id] * shift, max(shares[p.path_id] - floor, 0.0))
        shares[p.path_id] -= give
        moved += give
    win_total = sum(shares[p.path_id] for p in winners)
    for p in winners:
        part = shares[p.path_id] / win_total if win_total else 1 / len(winners)
        shares[p.path_id] += moved * part
    return shares


def to_weights(shares: dict[int, float], total: int) -> dict[int, int]:
    """Integer weights summing to ``total`` (largest remainders get the rounding)."""
    raw = {k: v * total for k, v in shares.items()}
    out = {k: int(v) for k, v in raw.items()}
    rest = total - sum(out.values())
    for k in sorted(raw, key=lambda k: raw[k] - out[k], reverse=True)[:rest]:
        out[k] += 1
    return out
