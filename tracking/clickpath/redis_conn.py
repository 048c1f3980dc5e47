"""The hot path's Redis client, with a short timeout and a one-second circuit breaker.

When Redis is unreachable every click would otherwise pay a connect timeout before falling
back to the database; after one failure the breaker sends clicks straight to the fallback for
a second, then tries Redis again.
"""

from __future__ import annotations

import threading
import time
from functools import cache

import redis
from django.conf import settings

from tracking.clickpath.conf import hot

ERRORS = (redis.ConnectionError, redis.TimeoutError, OSError)
# What makes a click take the database instead: the above, and any error answer (out of
# memory, a read-only replica, a wrong password, a script error): a click is never lost to one.
WRITE_ERRORS = (redis.RedisError, OSError)
BREAKER_SECONDS = 1.0

_down_until = 0.0
_lock = threading.Lock()


@cache
def _client(url: str, timeout: float) -> redis.Redis:
    return redis.Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        health_check_interval=0,
        max_connections=256,
    )


def available() -> bool:
    """Redis is configured and the breaker is closed (the ASGI edge's own client asks this)."""
    return bool(hot().redis_url) and time.monotonic() >= _down_until


def breaker_closed() -> bool:
    """``available`` without the configuration check (the click path has the settings at hand)."""
    return time.monotonic() >= _down_until


def client() -> redis.Redis | None:
    """The client, or None in embedded mode or while the breaker is open."""
    if not settings.REDIS_URL or time.monotonic() < _down_until:
        return None
    return _client(settings.REDIS_URL, settings.CLICK_REDIS_TIMEOUT_SECONDS)


def client_always() -> redis.Redis:
    """For the consumer, which retries on its own and must not be short-circuited."""
    return _client(settings.REDIS_URL, max(settings.CLICK_REDIS_TIMEOUT_SECONDS, 5.0))


def write_failed(exc: BaseException) -> None:
    """After a failed hot-path write: open the breaker unless Redis answered (an error answer
    about one call says nothing about the next)."""
    if not isinstance(exc, redis.ResponseError):
        mark_down()


def mark_down() -> None:
    global _down_until
    with _lock:
        _down_until = time.monotonic() + BREAKER_SECONDS
    _client(settings.REDIS_URL, settings.CLICK_REDIS_TIMEOUT_SECONDS).connection_pool.reset()


def reset() -> None:
    """Close the breaker (tests that restart Redis)."""
    global _down_until
    _down_until = 0.0


def key(*parts: object) -> str:
    return hot().key_base + ":".join(map(str, parts))
