"""Fixtures for the click hot path: clicks through the edge, and a
redis-server of a test's own (on a spare port, never the shared 6379) for tests that kill it."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from tracking.clickpath import redis_conn
from tracking.tests.asgi_driver import DESKTOP_UA, US_IP, EdgeClient

IPHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Mobile/15E148 Safari/604.1"
)


@pytest.fixture
def visit(edge: EdgeClient) -> Callable[..., Any]:
    """``visit(token, ip=..., ua=..., **query)``: a click through the edge."""

    def _visit(token: str, *, ip: str = US_IP, ua: str = DESKTOP_UA, path: str = "c", **query: str) -> Any:
        return edge.get(f"/{path}/{token}", query, REMOTE_ADDR=ip, HTTP_USER_AGENT=ua)

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
