"""GET /healthz: the state of the database, Redis and the click pipeline, for load balancers,
monitoring and humans (the README's operations section explains each field).

503 when the database is unreachable, or when clicks are not being written: the oldest click
waiting in the Redis stream is older than CLICK_HEALTH_MAX_LAG_SECONDS (no consumer, a stuck
one, or one whose group is gone). Redis down alone is not a 503: clicks then go straight to
the database. Beat's heartbeat and this host's spool are reported, not judged: a dead beat
delays payouts and reports, not clicks.
"""

from __future__ import annotations

import time
from typing import Any

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse

from tracking.clickpath import spool
from tracking.clickpath.consumer import GROUP
from tracking.clickpath.store import beat_key, consumers_key, spooled_key, stream_key

CONSUMER_ALIVE_SECONDS = 30


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:  # any driver error means "unreachable" to a health check
        return False


def _age(now: float, stamp: Any) -> float | None:
    return round(now - float(stamp), 1) if stamp is not None else None


def _group(client: redis.Redis) -> dict[str, Any] | None:
    try:
        groups: Any = client.xinfo_groups(stream_key())
    except redis.ResponseError:  # no stream yet
        return None
    return next((g for g in groups if g["name"] in (GROUP, GROUP.encode())), None)


def _clicks(client: redis.Redis, now: float) -> dict[str, Any]:
    """The stream's depth and age, the consumer group's lag, the consumers seen lately."""
    depth = client.xlen(stream_key())
    oldest: Any = client.xrange(stream_key(), count=1)
    oldest_age = now - int(oldest[0][0].split(b"-")[0]) / 1000 if oldest else 0.0
    group = _group(client)
    seen: Any = client.hgetall(consumers_key())
    alive = sorted(k.decode() for k, v in seen.items() if now - float(v) <= CONSUMER_ALIVE_SECONDS)
    spooled: Any = client.hgetall(spooled_key())
    return {
        "stream_depth": depth,
        "oldest_waiting_seconds": round(max(oldest_age, 0.0), 1),
        "group": "ok" if group is not None else "missing",
        "consumer_lag": group.get("lag") if group is not None else None,
        "consumer_pending": group.get("pending") if group is not None else None,
        "consumers_alive": alive,
        "spooled_hosts": {k.decode(): int(v) for k, v in spooled.items()},
        "writing": oldest_age <= settings.CLICK_HEALTH_MAX_LAG_SECONDS,
    }


def _redis_state(now: float) -> tuple[str, dict[str, Any] | None, dict[str, Any] | None]:
    if not settings.REDIS_URL:
        return "not_configured", None, None
    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    try:
        clicks = _clicks(client, now)
        beat_age = _age(now, client.get(beat_key()))
    except redis.RedisError:
        return "unreachable", None, None
    finally:
        client.close()
    limit = settings.BEAT_HEARTBEAT_SECONDS * 3
    beat = {"last_heartbeat_seconds": beat_age, "alive": beat_age is not None and beat_age <= limit}
    return "ok", clicks, beat


def _spool_here() -> int | None:
    try:
        return spool.pending()
    except OSError:
        return None


def healthz(request: HttpRequest) -> JsonResponse:
    now = time.time()
    db_ok = _database_ok()
    redis_state, clicks, beat = _redis_state(now)
    # Redis down degrades clicks to the direct-write path but does not take the service down.
    writing = clicks is None or clicks["writing"]
    body = {
        "status": "ok" if db_ok and writing else "unavailable",
        "database": "ok" if db_ok else "unreachable",
        "redis": redis_state,
        "clicks": clicks,
        "spool_files_here": _spool_here(),
        "beat": beat,
    }
    response = JsonResponse(body, status=200 if db_ok and writing else 503)
    response["Cache-Control"] = "no-store"
    return response
