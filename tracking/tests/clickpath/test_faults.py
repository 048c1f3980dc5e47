"""Fault injection on services of the test's own: a redis-server and a PostgreSQL cluster on
spare ports (never the shared ones), killed under load and brought back. Every test counts
what was answered against what was stored: nothing answered 302 is lost, nothing doubles.

- Both stores down: clicks are spooled (fsynced) and answered; after recovery every one of them
  is in PostgreSQL exactly once. A spool that cannot write (disk full) answers 503, never a
  redirect that promises an unrecorded click.
- A replay killed with SIGKILL mid-way and run again: no record lost or doubled.
- Postbacks while Redis is down, or dropping connections, or while clicks wait in a spool:
  503 (retried), never unknown_click; the retries make exactly one conversion per txn_id.
- Redis comes back empty: the consumer makes its group again and goes on writing clicks.
- An app-server worker killed: ``make serve`` respawns it and goes on answering.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import redis
from django.conf import settings
from django.db import connection

from conftest import ACME_POSTBACK_TOKEN
from tracking.clickpath import redis_conn, spool, writer
from tracking.clickpath.store import stream_key
from tracking.conversions.catalog import catalog_clear
from tracking.models import Click, Conversion
from tracking.tests.clickpath.conftest import spare_port
from tracking.tests.clickpath.test_spool import click_record

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def _fresh_catalog() -> None:
    """The postback's catalog cache must not carry the previous test's offers and advertisers."""
    catalog_clear()


class Load:
    """Clicks in concurrent bursts, each with its own sub1; remembers every answer."""

    def __init__(self, edge: Any, token: str) -> None:
        self.edge, self.token, self.next = edge, token, 0
        self.answers: dict[str, tuple[int, str]] = {}

    def drive(self, clicks: int, burst: int = 20) -> list[int]:
        statuses = []
        for start in range(self.next, self.next + clicks, burst):
            numbers = [str(n) for n in range(start, start + burst)]
            answers = self.edge.edge.burst(f"/c/{self.token}", [f"sub1={n}" for n in numbers])
            for number, (status, headers, _) in zip(numbers, answers, strict=True):
                self.answers[number] = (status, dict(headers).get("location", ""))
                statuses.append(status)
        self.next += clicks
        return statuses

    def redirected(self) -> set[str]:
        return {n for n, (status, _) in self.answers.items() if status == 302}

    def with_click_id(self) -> set[str]:
        return {n for n, (status, where) in self.answers.items() if status == 302 and "cid=" in where}

    def click_ids(self, numbers: range) -> list[str]:
        found = [self.answers[str(n)][1] for n in numbers if "cid=" in self.answers[str(n)][1]]
        return [where.split("cid=")[1].split("&")[0] for where in found]


def postbacks(edge: Any, click_ids: list[str]) -> list[tuple[int, str]]:
    """One postback per click (txn_id T-<click id>), all at once; (status, result or reason)."""
    queries = [
        f"token={ACME_POSTBACK_TOKEN}&click_id={c}&txn_id=T-{c}&goal=sale&amount=10" for c in click_ids
    ]
    out = []
    for status, _, body in edge.edge.burst("/postback", queries):
        answer = json.loads(body)
        out.append(
            (status, answer["reason"] if answer["result"] in ("rejected", "error") else answer["result"])
        )
    return out


def test_clicks_answered_while_both_stores_are_down_are_all_stored_once_after_recovery(
    own_redis, own_postgres, edge, shoes_link, drain
):
    load = Load(edge, shoes_link.token)
    assert set(load.drive(100)) == {302}  # Redis
    own_redis.kill()
    assert set(load.drive(100)) == {302}  # PostgreSQL directly
    own_postgres.kill()
    assert set(load.drive(200)) == {302}  # the spool
    assert spool.pending() >= 1
    spool_dir = Path(settings.CLICK_SPOOL_DIR)
    # Now the spool cannot write either (a full disk): no click may be promised.
    for path in spool_dir.glob("clicks-*.spool"):
        path.rename(path.with_name("held-" + path.name))
    (spool_dir / f"clicks-{os.getpid()}.spool").symlink_to("/dev/full")
    refused = load.drive(40)
    assert set(refused) == {503}
    (spool_dir / f"clicks-{os.getpid()}.spool").unlink()
    for path in spool_dir.glob("held-*"):
        path.rename(path.with_name(path.name.removeprefix("held-")))

    own_postgres.start()
    own_redis.start()
    connection.close()  # the test's own connection died with the server (the consumer's loop closes it)
    spooled_ids = load.click_ids(range(200, 400))
    assert spooled_ids
    # The clicks still wait in the spool: their postbacks are retried, never refused for good.
    assert {status for status, _ in postbacks(edge, spooled_ids[:20])} == {503}
    drain()  # the consumer's first round replays the spool, then empties the stream
    assert spool.pending() == 0
    stored = list(Click.objects.values_list("sub1", flat=True))
    assert len(stored) == len(set(stored)), "a click was stored twice"
    assert set(stored) == load.redirected()  # every 302 stored, every 503 not
    assert len(load.with_click_id()) >= 300
    assert set(postbacks(edge, spooled_ids[:20])) == {(200, "accepted")}
    assert Conversion.objects.count() == 20


def test_a_replay_killed_mid_way_and_run_again_loses_and_doubles_nothing(
    edge, shoes_link, tmp_path, settings
):
    settings.CLICK_SPOOL_DIR = str(tmp_path / "spool")
    total, per_file = 20_000, 500
    directory = spool.spool_dir()
    for f in range(total // per_file):
        with open(directory / f"clicks-{90_000 + f}.spool", "wb") as fh:
            for n in range(f * per_file, (f + 1) * per_file):
                fh.write(spool.frame(click_record(shoes_link, n)))
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CLICK_SPOOL_DIR": settings.CLICK_SPOOL_DIR,
    }
    replay = subprocess.Popen(
        [sys.executable, "manage.py", "consume_clicks", "--spool-only"], cwd=ROOT, env=env
    )
    deadline = time.monotonic() + 60
    while Click.objects.count() < 2 * per_file and time.monotonic() < deadline:
        time.sleep(0.005)
    replay.send_signal(signal.SIGKILL)
    replay.wait()
    at_kill = Click.objects.count()
    assert 0 < at_kill < total, "the kill must land mid-replay"
    assert list(directory.glob("taken-*.replay")), "the killed replay's taken file stays"
    writer.spool_replay()
    assert writer.spool_replay() == 0
    assert Click.objects.count() == total
    assert Click.objects.values("sub1").distinct().count() == total
    assert spool.pending() == 0


def test_postbacks_while_redis_is_down_are_retried_and_make_one_conversion_each(
    own_redis, edge, shoes_link, drain
):
    load = Load(edge, shoes_link.token)
    load.drive(40)
    click_ids = load.click_ids(range(40))  # all still in the stream
    own_redis.kill()
    assert set(postbacks(edge, click_ids)) == {(503, "storage_unavailable")}
    assert Conversion.objects.count() == 0
    own_redis.start()  # the AOF brings the stream and the clicks' pending copies back
    assert set(postbacks(edge, click_ids)) == {(200, "accepted")}
    drain()
    assert set(postbacks(edge, click_ids)) == {(200, "duplicate")}
    assert Conversion.objects.count() == 40
    assert Conversion.objects.filter(status="rejected").count() == 0


def test_redis_dropping_connections_never_makes_a_postback_unknown_click(own_redis, edge, shoes_link, drain):
    load = Load(edge, shoes_link.token)
    load.drive(200)
    drain()  # half the clicks in PostgreSQL, half still in the stream
    load.drive(200)
    click_ids = load.click_ids(range(400))
    killer = redis.Redis.from_url(own_redis.url)
    stop = threading.Event()

    def drop_connections() -> None:
        while not stop.is_set():
            killer.client_kill_filter(_type="normal", skipme=True)
            time.sleep(0.002)

    thread = threading.Thread(target=drop_connections)
    thread.start()
    try:
        answers = [a for start in range(0, 400, 40) for a in postbacks(edge, click_ids[start : start + 40])]
    finally:
        stop.set()
        thread.join()
    assert {reason for _, reason in answers} <= {"accepted", "storage_unavailable"}
    retry = [c for c, (status, _) in zip(click_ids, answers, strict=True) if status == 503]
    assert {status for status, _ in postbacks(edge, retry)} <= {200}
    assert Conversion.objects.count() == 400
    assert Conversion.objects.filter(status="rejected").count() == 0


def consumer_process(redis_url: str) -> subprocess.Popen[bytes]:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": redis_url,
        "CLICK_REDIS_PREFIX": settings.CLICK_REDIS_PREFIX,
        "CLICK_SPOOL_DIR": settings.CLICK_SPOOL_DIR,
        "CLICK_CONSUMER_LINGER_MS": "10",
    }
    return subprocess.Popen([sys.executable, "manage.py", "consume_clicks"], cwd=ROOT, env=env)


def wait_for_clicks(n: int, proc: subprocess.Popen[bytes], seconds: float = 90) -> int:
    """The count once ``n`` clicks are stored, or when time is up: generous, because a consumer
    started on a loaded 2-core machine took more than 30 s to store its first click."""
    deadline = time.monotonic() + seconds
    while (count := Click.objects.count()) < n and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    return count


def test_the_consumer_makes_its_group_again_when_redis_comes_back_empty(own_redis, edge, shoes_link, client):
    load = Load(edge, shoes_link.token)
    proc = consumer_process(own_redis.url)
    try:
        load.drive(100)
        assert wait_for_clicks(100, proc) == 100
        own_redis.kill()
        own_redis.wipe()
        own_redis.start()  # empty: no stream, no group
        load.drive(20)  # the edge finds its connection dead: these go to PostgreSQL directly
        time.sleep(redis_conn.BREAKER_SECONDS + 0.5)
        load.drive(100)  # through the stream, which has no group now
        assert redis.Redis.from_url(own_redis.url).exists(stream_key())
        assert wait_for_clicks(220, proc) == 220
        assert proc.poll() is None, "the consumer died"
        health = client.get("/healthz").json()
        assert (health["clicks"]["group"], health["clicks"]["writing"]) == ("ok", True)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    stored = list(Click.objects.values_list("sub1", flat=True))
    assert sorted(stored, key=int) == [str(n) for n in range(220)]


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _leaves(pid: int) -> list[int]:
    kids = _children(pid)
    return [leaf for kid in kids for leaf in _leaves(kid)] if kids else [pid]


def test_make_serve_respawns_an_app_server_worker_that_dies(edge, shoes_link):
    from tracking.tests.clickpath.test_served import fetch

    db = connection.settings_dict
    port = spare_port()
    env = {
        **os.environ,
        "SECRET_KEY": "s" * 60,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "EMAIL_URL": "smtp://127.0.0.1:25",  # production refuses to start without one
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DB_CONN_MAX_AGE": "0",
        "REDIS_URL": settings.REDIS_URL,
        "CLICK_REDIS_PREFIX": settings.CLICK_REDIS_PREFIX,
        "LOG_LEVEL": "WARNING",
        "PORT": str(port),
        "WEB_WORKERS": "1",
    }
    make = subprocess.Popen(
        ["make", "--no-print-directory", "serve"], cwd=ROOT, env=env, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"

    def clicks_answered(seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                if fetch(f"{base}/c/{shoes_link.token}")[0] == 302:
                    return True
            except OSError:
                pass
            time.sleep(0.2)
        return False

    try:
        assert clicks_answered(60)
        [worker] = _leaves(make.pid)
        os.kill(worker, signal.SIGKILL)
        assert clicks_answered(30), "no worker answers after one died"
        assert make.poll() is None, "make serve exited"
        assert _leaves(make.pid) != [worker]
    finally:
        os.killpg(make.pid, signal.SIGTERM)
        make.wait(timeout=30)
