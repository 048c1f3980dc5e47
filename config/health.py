"""GET /healthz: the state of the database and Redis, for load balancers and humans."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:  # any driver error means "unreachable" to a health check
        return False


def _redis_state() -> str:
    if not settings.REDIS_URL:
        return "not_configured"
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1).ping()
        return "ok"
    except redis.RedisError:
        return "unreachable"


def healthz(request: HttpRequest) -> JsonResponse:
    db_ok = _database_ok()
    body = {
        "status": "ok" if db_ok else "unavailable",
        "database": "ok" if db_ok else "unreachable",
        "redis": _redis_state(),
    }
    # Redis down degrades clicks to the direct-write path but does not take the service down.
    response = JsonResponse(body, status=200 if db_ok else 503)
    response["Cache-Control"] = "no-store"
    return response
