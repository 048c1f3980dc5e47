"""The stream consumer: Redis stream -> PostgreSQL in batches, acknowledged after commit.

Every consumer is a member of one consumer group. A batch is read with XREADGROUP, written in
one transaction (``writer.lines_write``), and only then acknowledged and deleted from the
stream (XACK + XDEL), and its pending copies dropped. A consumer killed mid-batch leaves its
entries pending in the group: any consumer claims them (XAUTOCLAIM) once they have been idle
for CLICK_CLAIM_IDLE_MS and writes them again; ON CONFLICT (id) DO NOTHING makes a click that
did reach the table before the kill a no-op, so nothing is lost and nothing doubles.

A Redis that comes back empty (restarted without its AOF, or flushed) has no group: every
group command then fails with NOGROUP, and the consumer creates the group again (from the
stream's start, so the clicks the edges wrote meanwhile are read) and goes on.

Each round the consumer also leaves its traces for /healthz (config/health.py): its name and
time in the ``consumers`` hash, and its host's waiting spool files in ``store.spooled_key``
(which click lookups read: a postback answers 503, not unknown_click, while a spool waits).
"""

from __future__ import annotations

import logging
import os
import socket
import time
from typing import Any

import redis
from django.conf import settings
from django.db import DatabaseError, close_old_connections

from tracking.clickpath import lines, redis_conn, spool, writer
from tracking.clickpath.store import consumers_key, entry_lines, pending_key, spooled_key, stream_key

log = logging.getLogger(__name__)
GROUP = "click-writers"
ENTRY_CLICKS = 8  # what a stream entry holds on average under load, for sizing reads
SPOOL_EVERY_SECONDS = 5.0
CLAIM_EVERY_SECONDS = 5.0
CONSUMER_FORGET_SECONDS = 86_400


def is_nogroup(exc: BaseException) -> bool:
    return isinstance(exc, redis.ResponseError) and str(exc).startswith("NOGROUP")


def group_ensure(client: redis.Redis) -> None:
    try:
        client.xgroup_create(stream_key(), GROUP, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def _write(client: redis.Redis, entries: list[tuple[bytes, dict[bytes, bytes]]]) -> int:
    """Write, then acknowledge; returns the records written. Raises DatabaseError (entries
    stay pending) on failure."""
    if not entries:
        return 0
    stream_lines = [line for _, fields in entries for line in entry_lines(fields)]
    writer.lines_write(stream_lines)
    ids = [entry_id for entry_id, _ in entries]
    pipe = client.pipeline(transaction=True)
    pipe.xack(stream_key(), GROUP, *ids)
    pipe.xdel(stream_key(), *ids)
    clicks = lines.click_keys(stream_lines, pending_key("").encode())
    if clicks:
        pipe.delete(*clicks)
    pipe.execute()
    return len(stream_lines)


class Consumer:
    def __init__(self, name: str | None = None, batch: int | None = None) -> None:
        self.client = redis_conn.client_always()
        self.name = name or f"{socket.gethostname()}-{os.getpid()}"
        self.batch = batch or settings.CLICK_CONSUMER_BATCH
        # Stream entries per read: an entry holds the clicks of one group commit, one under
        # light load and dozens under heavy load, when ``batch`` entries would make a huge
        # transaction.
        self.entries = max(1, self.batch // ENTRY_CLICKS)
        self.written = 0
        self.host = socket.gethostname()
        self._next_spool = 0.0
        self._next_claim = 0.0
        # Seconds between stale-entry claims in a long-running consumer (--once claims on every
        # round: it is draining, and must not stop while entries are pending).
        self.claim_every = CLAIM_EVERY_SECONDS

    def claim_stale(self) -> int:
        """Take over entries other (dead) consumers read but never acknowledged."""
        done, start = 0, "0-0"
        while True:
            result: Any = self.client.xautoclaim(
                stream_key(), GROUP, self.name, settings.CLICK_CLAIM_IDLE_MS, start, count=self.entries
            )
            start, entries = result[0], result[1]
            done += _write(self.client, [e for e in entries if e[1]])
            # Entries deleted from the stream while pending come back empty: just acknowledge.
            gone = [e[0] for e in entries if not e[1]]
            if gone:
                self.client.xack(stream_key(), GROUP, *gone)
            if start in (b"0-0", "0-0"):
                return done

    def read_new(self, block_ms: int) -> int:
        """Read and write new entries, waiting up to ``block_ms`` for some; 0: no wait (Redis
        reads ``BLOCK 0`` as "wait forever", so no BLOCK is sent then)."""
        result: Any = self.client.xreadgroup(
            GROUP, self.name, {stream_key(): ">"}, count=self.entries, block=block_ms or None
        )
        if not result:
            return 0
        return _write(self.client, result[0][1])

    def replay_spool(self, force: bool = False) -> int:
        """Replay this host's spool; while files wait, the host is named in ``spooled_key``
        (set before the replay, so a replay that fails leaves it set)."""
        now = time.monotonic()
        if not force and now < self._next_spool:
            return 0
        self._next_spool = now + SPOOL_EVERY_SECONDS
        self._alive_mark()
        waiting = spool.pending()
        if not waiting:
            self.client.hdel(spooled_key(), self.host)
            return 0
        self.client.hset(spooled_key(), self.host, waiting)
        done = writer.spool_replay()
        if not spool.pending():
            self.client.hdel(spooled_key(), self.host)
        return done

    def _alive_mark(self) -> None:
        """This consumer's time in the ``consumers`` hash (/healthz); names of consumers gone
        for a day (every restart is a new name) are pruned."""
        now = int(time.time())
        seen: Any = self.client.hgetall(consumers_key())
        gone = [name for name, at in seen.items() if now - int(at) > CONSUMER_FORGET_SECONDS]
        pipe = self.client.pipeline(transaction=False)
        pipe.hset(consumers_key(), self.name, now)
        if gone:
            pipe.hdel(consumers_key(), *gone)
        pipe.execute()

    def _spool_without_redis(self, exc: BaseException) -> None:
        """Redis down, the database up: the spool needs only the database."""
        if isinstance(exc, DatabaseError):
            return
        try:
            self.written += writer.spool_replay()
        except (DatabaseError, OSError) as db_exc:
            log.warning("click consumer %s: spool not replayed: %s", self.name, db_exc)

    def _claim_due(self) -> int:
        now = time.monotonic()
        if now < self._next_claim:
            return 0
        self._next_claim = now + self.claim_every
        return self.claim_stale()

    def step(self, block_ms: int = 1000) -> int:
        """One round: stale claims (when due), spool, then new entries. Returns records written."""
        n = self._claim_due() + self.replay_spool()
        n += self.read_new(0 if n else block_ms)
        self.written += n
        return n

    def run(self, *, once: bool = False) -> None:
        group_ensure(self.client)
        log.info("click consumer %s started", self.name)
        if once:
            self.claim_every = 0.0
        linger = settings.CLICK_CONSUMER_LINGER_MS / 1000
        while True:
            close_old_connections()  # drop a connection broken by a database restart
            try:
                n = self.step()
            except redis.ResponseError as exc:
                if is_nogroup(exc):
                    # Redis came back empty: the entries this consumer held are gone with it
                    # (only an AOF keeps them); what the edges write from now on must be read.
                    log.error("click consumer %s: the group is gone (%s); creating it again", self.name, exc)
                    group_ensure(self.client)
                    continue
                # An error answer (out of memory, a read-only replica): retried like an outage.
                log.warning("click consumer %s: Redis refused (%s); retrying", self.name, exc)
                time.sleep(1)
                continue
            except (DatabaseError, *redis_conn.ERRORS) as exc:
                # Nothing was acknowledged: the entries stay pending and are claimed again.
                log.warning("click consumer %s: %s; retrying", self.name, exc)
                self._spool_without_redis(exc)
                time.sleep(1)
                continue
            if once and n == 0:
                return
            if not once and 0 < n < self.batch:
                # The stream was read faster than it fills: let it fill. Each write's fixed
                # cost (a transaction and its WAL flush, the reads, acknowledgements and
                # deletes) was most of a click's cost when a busy consumer wrote a few hundred
                # clicks at a time; the clicks wait in the stream (durable, and findable by
                # attribution through their pending copies), so a short linger costs nothing.
                time.sleep(linger)
