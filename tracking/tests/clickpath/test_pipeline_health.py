"""/healthz on the click pipeline, and click lookups while a spool waits somewhere."""

from __future__ import annotations

import time

import pytest
import redis
from django.conf import settings
from django.core.management import call_command

from tracking.clickpath.consumer import group_ensure
from tracking.clickpath.store import beat_key, consumers_key, spooled_key, stream_key
from tracking.conversions.click_lookup import ClickLookupUnavailable, click_find
from tracking.ids import new_click_id
from tracking.tasks import beat_heartbeat

pytestmark = [pytest.mark.redis, pytest.mark.django_db]


@pytest.fixture
def r() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def test_healthz_answers_503_when_clicks_wait_in_the_stream_too_long(client, r, settings):
    stale_ms = int(time.time() * 1000) - (settings.CLICK_HEALTH_MAX_LAG_SECONDS + 60) * 1000
    r.xadd(stream_key(), {"x": b"i\t..."}, id=f"{stale_ms}-0")
    response = client.get("/healthz")
    assert response.status_code == 503
    clicks = response.json()["clicks"]
    assert (clicks["stream_depth"], clicks["writing"], clicks["group"]) == (1, False, "missing")
    assert clicks["oldest_waiting_seconds"] > settings.CLICK_HEALTH_MAX_LAG_SECONDS


def test_healthz_reports_consumers_lag_and_beat(client, r):
    group_ensure(r)
    r.xadd(stream_key(), {"x": b"i\t..."})
    r.hset(consumers_key(), "host-1", int(time.time()))
    beat_heartbeat()
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["clicks"]["consumer_lag"] == 1
    assert body["clicks"]["consumers_alive"] == ["host-1"]
    assert body["beat"]["alive"] is True
    assert int(r.get(beat_key())) >= int(time.time()) - 5


def test_an_unknown_click_answers_503_while_a_hosts_spool_waits_then_not_found(r, settings, tmp_path):
    settings.CLICK_SPOOL_DIR = str(tmp_path)  # the copy of the gone host's spool
    long_ago = new_click_id(int(time.time() * 1000) - 86_400_000)
    assert click_find(click_id=long_ago) is None
    r.hset(spooled_key(), "gone-host", 3)
    with pytest.raises(ClickLookupUnavailable):
        click_find(click_id=long_ago)
    call_command("consume_clicks", "--spool-only", "--drained-host", "gone-host")
    assert click_find(click_id=long_ago) is None


def test_a_click_minted_moments_ago_that_no_store_holds_yet_is_not_refused_for_good():
    with pytest.raises(ClickLookupUnavailable):
        click_find(click_id=new_click_id())


def test_a_lookup_while_redis_is_unreachable_fails_rather_than_finding_nothing(settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    with pytest.raises(ClickLookupUnavailable):
        click_find(click_id=new_click_id(1))
