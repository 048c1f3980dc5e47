"""When a failed postback is tried again: exponential backoff with jitter, for up to 24 h.

1, 2, 4, 8 ... minutes, capped at 3 hours, each delay drawn between half and all of that
(\"equal jitter\"): the schedule still grows, but a publisher's server coming back after an
outage is not hit by every delayed postback in the same second.
"""

from __future__ import annotations

import random
from datetime import timedelta

RETRY_BASE = timedelta(minutes=1)
RETRY_CAP = timedelta(hours=3)


def retry_ceiling(failures: int) -> timedelta:
    """The longest wait after the ``failures``-th failed attempt (1 for the first)."""
    exponent = min(max(failures, 1) - 1, 16)
    factor: int = 2**exponent
    return min(RETRY_CAP, RETRY_BASE * factor)


def retry_delay(failures: int, *, jitter: float | None = None) -> timedelta:
    """The wait before the next attempt; ``jitter`` in [0, 1) is drawn when not given."""
    spread = random.random() if jitter is None else jitter
    ceiling = retry_ceiling(failures)
    return ceiling / 2 + ceiling / 2 * spread
