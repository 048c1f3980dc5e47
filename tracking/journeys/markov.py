"""The data-driven model: first-order Markov chain removal effect, as the channelattribution
package computes it (Altomare & Loris; Anderl et al. 2016), on publishers as channels.

Each path (a journey's publishers in time order, repeats of the same publisher in a row
collapsed into one state) is a walk start -> c1 -> ... -> ck -> (conversion | null). From the
counted transitions, P(conversion) is the absorption probability from start, solved as a linear
system with numpy. Removing channel c sends every walk that reaches c to null; c's removal effect
is 1 - P(conversion without c) / P(conversion). channelattribution splits the total conversions
over channels in proportion to their removal effects (``markov_allocate``); a journey's own
credit (``markov_split``) splits its one conversion over its channels the same way, and equally
among a channel's touches within it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise
from typing import Any

import numpy as np

from tracking.journeys.credits import exact

Channel = Hashable


@dataclass(frozen=True)
class Path:
    channels: tuple[Channel, ...]
    conversions: int = 0
    nulls: int = 0


def _collapse(channels: Sequence[Channel]) -> tuple[Channel, ...]:
    out: list[Channel] = []
    for c in channels:
        if not out or out[-1] != c:
            out.append(c)
    return tuple(out)


def _transitions(paths: Iterable[Path]) -> dict[Channel, dict[Channel, int]]:
    counts: dict[Channel, dict[Channel, int]] = defaultdict(lambda: defaultdict(int))
    for path in paths:
        walk = _collapse(path.channels)
        if not walk or path.conversions + path.nulls == 0:
            continue
        weight = path.conversions + path.nulls
        states = [("start",), *walk]
        for a, b in pairwise(states):
            counts[a][b] += weight
        if path.conversions:
            counts[walk[-1]][("conversion",)] += path.conversions
        if path.nulls:
            counts[walk[-1]][("null",)] += path.nulls
    return counts


@dataclass(frozen=True)
class _System:
    """The absorption system over every state: (I - Q) p = b, b the one-step conversion odds."""

    states: list[Channel]
    a: np.ndarray[Any, Any]
    b: np.ndarray[Any, Any]


def _system(counts: Mapping[Channel, Mapping[Channel, int]]) -> _System:
    states = list(counts)
    index = {s: i for i, s in enumerate(states)}
    a = np.eye(len(states))
    b = np.zeros(len(states))
    for s, row in counts.items():
        total = sum(row.values())
        for t, n in row.items():
            if t == ("conversion",):
                b[index[s]] += n / total
            elif t in index:
                a[index[s], index[t]] -= n / total
    return _System(states, a, b)


def removal_effects(paths: Sequence[Path]) -> dict[Channel, float]:
    """Each channel's removal effect over these paths (0 when nothing converts).

    One inversion per call instead of one solve per channel: with N = (I - Q)^-1 and p = N b,
    a walk from start reaches channel c with probability N[start, c] / N[c, c], and from c
    converts with p[c]; removing c (c leads to null) loses exactly those conversions, so
    P(conversion without c) = p[start] - N[start, c] / N[c, c] * p[c]."""
    counts = _transitions(paths)
    if not counts:
        return {}
    channels = {c for p in paths for c in p.channels}
    system = _system(counts)
    n = np.linalg.inv(system.a)
    p = n @ system.b
    start = system.states.index(("start",))
    base = float(p[start])
    if base <= 0:
        return dict.fromkeys(channels, 0.0)
    index = {s: i for i, s in enumerate(system.states)}
    effects = {}
    for c in channels:
        i = index[c]
        without = base - float(n[start, i] / n[i, i] * p[i])
        effects[c] = max(0.0, 1 - without / base)
    return effects


def markov_allocate(paths: Sequence[Path]) -> dict[Channel, float]:
    """channelattribution's result: total conversions split by normalised removal effect."""
    effects = removal_effects(paths)
    total = sum(effects.values())
    conversions = sum(p.conversions for p in paths)
    if total <= 0:
        return dict.fromkeys(effects, 0.0)
    return {c: conversions * e / total for c, e in effects.items()}


def markov_split(channels: Sequence[Channel], effects: Mapping[Channel, float]) -> list[Decimal]:
    """One journey's credit per touch: its channels' removal effects, normalised over the
    distinct channels of the journey, each channel's share split equally among its touches.
    A journey whose channels have no effect (no data yet) is split linearly."""
    distinct = set(channels)
    total = sum(effects.get(c, 0.0) for c in distinct)
    if total <= 0:
        return exact([1] * len(channels))
    per_touch = {c: effects.get(c, 0.0) / total / channels.count(c) for c in distinct}
    return exact([per_touch[c] for c in channels])
