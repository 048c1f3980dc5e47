"""scipy.stats, imported on first use.

Importing scipy.stats costs 1.5-2 s of CPU, about as much as the rest of Django's start-up. Every
process reaches the modules that compute statistics at start (Celery's task discovery imports
the A/B tests, the holdout tests and the smart-link optimiser), but only their jobs and pages
use scipy: with this, the app server's workers, the click consumer, beat and each ``manage.py``
command start without it, and the first statistic computed in a process pays the import once.
"""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def scipy_stats() -> Any:  # scipy ships no type information
    import scipy.stats

    return scipy.stats
