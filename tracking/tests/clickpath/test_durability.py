"""Durability on real services: our own redis-server on a spare port (never the shared 6379).

- Redis killed during a burst: every click still 302 and, once Redis is back, in PostgreSQL.
- The consumer killed with SIGKILL mid-batch and restarted: no click lost or duplicated.
- Redis and PostgreSQL both unreachable: clicks spooled, then replayed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

from affiliates.tests import factories as f
from tracking.clickpath import spool, writer
from tracking.clickpath.blocking import blocking_pool_shutdown
from tracking.clickpath.store import stream_key
from tracking.models import Click
from tracking.tests.clickpath.conftest import spare_port

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[3]


def test_every_click_of_a_burst_survives_redis_being_killed(own_redis, edge, shoes_link, drain):
    statuses = []
    for n in range(60):
        if n == 30:
            own_redis.kill()
        statuses.append(edge.get(f"/c/{shoes_link.token}", {"sub1": n}, REMOTE_ADDR="8.8.8.8").status_code)
    assert statuses == [302] * 60
    assert Click.objects.count() == 30  # written straight to PostgreSQL while Redis was down
    own_redis.start()  # the AOF brings the stream back
    drain()
    assert sorted(int(s) for s in Click.objects.values_list("sub1", flat=True)) == list(range(60))


def consumer(db_name: str, *extra: str, claim_ms: int = 30_000) -> subprocess.Popen[bytes]:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db_name}",
        "REDIS_URL": settings.REDIS_URL,
        "CLICK_REDIS_PREFIX": settings.CLICK_REDIS_PREFIX,
        "CLICK_CLAIM_IDLE_MS": str(claim_ms),
        "CLICK_SPOOL_DIR": settings.CLICK_SPOOL_DIR,
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "consume_clicks", "--batch", "300", *extra], cwd=ROOT, env=env
    )


def test_a_consumer_killed_mid_batch_loses_and_duplicates_nothing(own_redis, edge, shoes_link):
    total = 6000
    # Small bursts, so stream entries stay small and the consumer's 300-click batches are many
    # transactions (one burst is one Redis command and one stream entry): the kill lands mid-way.
    for start in range(0, total, 4):
        answers = edge.edge.burst(f"/c/{shoes_link.token}", [f"sub1={n}" for n in range(start, start + 4)])
        assert [status for status, _, _ in answers] == [302] * 4
    db_name = connection.settings_dict["NAME"]
    first = consumer(db_name)
    deadline = time.monotonic() + 60
    while Click.objects.count() < 600 and time.monotonic() < deadline:
        time.sleep(0.01)
    first.send_signal(signal.SIGKILL)
    first.wait()
    written_at_kill = Click.objects.count()
    assert 0 < written_at_kill < total
    time.sleep(0.3)
    second = consumer(db_name, "--once", claim_ms=200)
    assert second.wait(timeout=120) == 0
    assert Click.objects.count() == total
    assert Click.objects.values("sub1").distinct().count() == total
    assert redis.Redis.from_url(settings.REDIS_URL).xlen(stream_key()) == 0


def _closed() -> None:
    """Close the test's and the edge's pool's connections: the next query connects anew."""
    blocking_pool_shutdown()
    connection.close()


def test_clicks_are_spooled_when_redis_and_postgresql_are_both_down_and_replayed(own_redis, edge, shoes_link):
    cached = edge.get(f"/c/{shoes_link.token}", {"sub1": 0})  # the link is now cached
    assert cached.status_code == 302
    other = f.OfferAccessFactory(offer=shoes_link.offer)
    own_redis.kill()
    port = connection.settings_dict["PORT"]
    _closed()
    connection.settings_dict["PORT"] = spare_port()  # nothing listens there: PostgreSQL "down"
    try:
        spooled = edge.get(f"/c/{shoes_link.token}", {"sub1": 1})
        unresolved = edge.get(f"/c/{other.token}", {"sub1": 2})
    finally:
        _closed()
        connection.settings_dict["PORT"] = port
    assert spooled.status_code == 302
    assert spooled["Location"].startswith("https://shoes.example.com/")
    assert unresolved.status_code == 302
    assert unresolved["Location"] == settings.DEFAULT_FALLBACK_URL
    assert spool.pending() == 1
    assert writer.spool_replay() == 2
    rows = dict(Click.objects.filter(sub1__in=["1", "2"]).values_list("sub1", "reason"))
    assert rows == {"1": "", "2": "tracking_unavailable"}
    assert Click.objects.get(sub1="2").offer_id == other.offer_id
