"""Rule-based multi-touch credit and touch roles: pure functions of one journey's touch times.

Every model returns one fraction per touch, in the touches' order, summing to exactly 1
(``exact`` gives the last touch what rounding took, so sums per conversion never drift).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from tracking.models.journeys import TouchRole

#: Credits are stored with 10 decimal places (tracking.models.journeys.CreditField).
PLACES = Decimal("1e-10")
HALF_LIFE = timedelta(days=7)
ONE = Decimal(1)


def exact(weights: Sequence[float | Decimal]) -> list[Decimal]:
    """Normalise ``weights`` to fractions with 10 places that sum to exactly 1."""
    total = sum(Decimal(str(w)) for w in weights)
    if not weights:
        return []
    if total <= 0:
        return exact([1] * len(weights))
    shares = [(Decimal(str(w)) / total).quantize(PLACES, ROUND_HALF_EVEN) for w in weights[:-1]]
    return [*shares, ONE - sum(shares, Decimal(0))]


def last_click(n: int) -> list[Decimal]:
    return exact([0] * (n - 1) + [1]) if n else []


def first_click(n: int) -> list[Decimal]:
    return exact([1] + [0] * (n - 1)) if n else []


def linear(n: int) -> list[Decimal]:
    return exact([1] * n)


def position_based(n: int) -> list[Decimal]:
    """40 % to the first touch, 40 % to the last, 20 % shared by those between. One touch takes
    all; two share it equally (there is no middle to give the 20 % to)."""
    if n <= 2:
        return linear(n)
    middle = Decimal("0.2") / (n - 2)
    return exact([Decimal("0.4"), *([middle] * (n - 2)), Decimal("0.4")])


def time_decay(times: Sequence[datetime], converted_at: datetime) -> list[Decimal]:
    """Each touch weighs 2^(-age / 7 days), age being the time from it to the conversion."""
    return exact([2 ** (-((converted_at - at) / HALF_LIFE)) for at in times])


def roles(n: int) -> list[str]:
    """The first touch introduces, the last closes, those between influence. A journey of one
    touch has only its closer."""
    if n == 1:
        return [TouchRole.CLOSER]
    return [TouchRole.INTRODUCER, *([TouchRole.INFLUENCER] * (n - 2)), TouchRole.CLOSER]
