"""Fault injection on services of the test's own: a redis-server and a PostgreSQL cluster on
spare ports (never the shared ones), killed under load and brought back. Every test counts
what was answered against what was stored: nothing answered 302 is lost, nothing doubles.

- Both stores down: clicks are spooled (fsynced) and answered; after recovery every one of them
  is in PostgreSQL exactly once. A spool that cannot write (disk full) answers 503, never a
  redirect that promises an unrecorded click.
- A replay killed with SIGKILL mid-way and run again: no record lost or doubled.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from tracking.clickpath import spool, writer
from tracking.models import Click
from tracking.tests.clickpath.test_spool import click_record

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]
ROOT = Path(__file__).resolve().parents[3]


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
    drain()  # the consumer's first round replays the spool, then empties the stream
    assert spool.pending() == 0
    stored = list(Click.objects.values_list("sub1", flat=True))
    assert len(stored) == len(set(stored)), "a click was stored twice"
    assert set(stored) == load.redirected()  # every 302 stored, every 503 not
    assert len(load.with_click_id()) >= 300


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
