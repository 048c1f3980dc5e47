"""Django's per-request database housekeeping, paid only by lean requests that use the database.

Django calls ``close_old_connections()`` when a request starts and when it finishes, so that a
connection past CONN_MAX_AGE, left in a bad state or broken is replaced (with CONN_HEALTH_CHECKS
the start also arms a ping before the next query). ``wsgi.ClickApp`` bypasses Django's request
machinery, and almost no click touches the database: links come from the process cache,
counters and the record go to Redis. Two passes over the connections per click were pure cost.
So the hot path's few database paths (a link cache miss, the Redis-down fallback) call
``db_enter()`` before their first query: in a lean request that does the start-of-request
housekeeping, and ``lean_end()`` does the finishing one only when it happened.

Outside a lean request (Django's views: tests, runserver) both are no-ops, since Django's own
signals do the work there, and closing a connection inside a test's transaction would break it.
"""

from __future__ import annotations

import threading

from django.db import close_old_connections

_state = threading.local()


def lean_begin() -> None:
    _state.lean = True
    _state.used = False


def db_enter() -> None:
    """Call before the hot path's first query of a request."""
    if getattr(_state, "lean", False) and not _state.used:
        _state.used = True
        close_old_connections()


def lean_end() -> None:
    _state.lean = False
    if _state.used:
        _state.used = False
        close_old_connections()
