"""Fixtures for the click hot path: isolated Redis keys, a stream drain, a link factory, and a
redis-server of a test's own (on a spare port, never the shared 6379) for tests that kill it."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from django.conf import settings

from tracking.clickpath import links, redis_conn
from tracking.clickpath.consumer import Consumer, group_ensure

DESKTOP_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36"
)
IPHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Mobile/15E148 Safari/604.1"
)
US_IP = "8.8.8.8"


@pytest.fixture(autouse=True)
def _isolated_hot_path(settings: Any) -> None:
    """Each test gets its own Redis key space (xdist workers share one Redis db) and an empty
    link cache (snapshots must never leak between tests)."""
    settings.CLICK_REDIS_PREFIX = f"t-{uuid.uuid4().hex[:12]}"
    links._local.clear()
    redis_conn.reset()


@pytest.fixture
def drain() -> Callable[[], int]:
    """Run the consumer until the stream is empty (a no-op in embedded mode)."""

    def _drain() -> int:
        if not settings.REDIS_URL:
            return 0
        consumer = Consumer(name="test")
        group_ensure(consumer.client)
        total = 0
        while n := consumer.step(block_ms=1):
            total += n
        return total

    return _drain


@pytest.fixture
def visit(client: Any, drain: Callable[[], int]) -> Callable[..., Any]:
    """``visit(token, ip=..., ua=..., **query)``: a click through the Django test client."""

    def _visit(token: str, *, ip: str = US_IP, ua: str = DESKTOP_UA, path: str = "c", **query: str) -> Any:
        return client.get(f"/{path}/{token}", query, REMOTE_ADDR=ip, HTTP_USER_AGENT=ua)

    return _visit


def spare_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class OwnRedis:
    """A redis-server with an fsync-always AOF, as production must run it for clicks (and a
    password, when given)."""

    def __init__(self, workdir: Path, password: str = "") -> None:
        self.port, self.dir, self.password = spare_port(), workdir, password
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.dir),
             *(["--requirepass", self.password] if self.password else [])],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis.from_url(self.url)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        redis_conn.reset()

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()


@pytest.fixture
def own_redis(tmp_path: Path, settings: Any) -> Iterator[OwnRedis]:
    server = OwnRedis(tmp_path)
    server.start()
    settings.REDIS_URL = server.url
    settings.CLICK_SPOOL_DIR = str(tmp_path / "spool")
    yield server
    if server.proc and server.proc.poll() is None:
        server.kill()
