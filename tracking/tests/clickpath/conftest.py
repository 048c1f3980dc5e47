"""Fixtures for the click hot path: clicks through the edge, and a
redis-server of a test's own (on a spare port, never the shared 6379) for tests that kill it."""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import tempfile
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

    def wipe(self) -> None:
        """Lose the AOF, as a Redis restarted without persistence (or on a new disk) does."""
        shutil.rmtree(self.dir / "appendonlydir", ignore_errors=True)


@pytest.fixture
def own_redis(tmp_path: Path, settings: Any) -> Iterator[OwnRedis]:
    server = OwnRedis(tmp_path)
    server.start()
    settings.REDIS_URL = server.url
    settings.CLICK_SPOOL_DIR = str(tmp_path / "spool")
    yield server
    if server.proc and server.proc.poll() is None:
        server.kill()


PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _as_postgres(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
    """PostgreSQL refuses to run as root: its commands run as the postgres user then."""
    import os

    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    return subprocess.run(cmd, check=True, capture_output=True, **kwargs)


class OwnPostgres:
    """A PostgreSQL cluster of a test's own (initdb into a temporary directory, a spare port),
    which the test may stop or kill; ``adopt`` copies the test database into it (pg_dump:
    schema and the rows the test committed) and points Django's connections at the copy."""

    def __init__(self) -> None:
        # Not under pytest's tmp_path: the postgres user cannot enter root's 0700 directories.
        self.root = Path(tempfile.mkdtemp(prefix="affnet-pg-"))
        self.dir, self.port = self.root / "data", spare_port()
        self.saved: dict[str, Any] | None = None

    def _ctl(self, *args: str) -> None:
        _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.dir), "-w", *args])

    def init(self) -> None:
        import os

        self.dir.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
            shutil.chown(self.dir, "postgres")
        _as_postgres(
            [str(PG_BIN / "initdb"), "-D", str(self.dir), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
        )
        self.start()

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._ctl("-l", str(self.dir / "server.log"), "-o", opts, "start")

    def kill(self) -> None:
        """An immediate stop: no checkpoint, as a crash (recovery replays the WAL at start)."""
        self._ctl("-m", "immediate", "stop")

    def stop(self) -> None:
        self._ctl("-m", "fast", "stop")

    def adopt(self) -> None:
        from django.db import connection

        db = connection.settings_dict
        connection.close()
        url = ["-h", str(db["HOST"]), "-p", str(db["PORT"]), "-U", str(db["USER"])]
        dump = subprocess.run(
            ["pg_dump", *url, "--no-owner", "--no-privileges", str(db["NAME"])],
            check=True,
            capture_output=True,
        ).stdout
        mine = ["-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"]
        subprocess.run(["createdb", *mine, "faults"], check=True)
        subprocess.run(["psql", *mine, "-q", "-v", "ON_ERROR_STOP=1", "faults"], input=dump, check=True,
                       capture_output=True)  # fmt: skip
        self.saved = {k: db[k] for k in ("HOST", "PORT", "NAME", "USER")}
        db.update(HOST="127.0.0.1", PORT=str(self.port), NAME="faults", USER="postgres")

    def release(self) -> None:
        from django.db import connection

        from tracking.clickpath.blocking import blocking_pool_shutdown

        blocking_pool_shutdown()
        connection.close()
        if self.saved is not None:
            connection.settings_dict.update(self.saved)
            self.saved = None


@pytest.fixture
def own_postgres(edge: Any) -> Iterator[OwnPostgres]:
    """Our own PostgreSQL holding a copy of the test database, Django pointed at it; pointed
    back (and the cluster stopped) before pytest-django flushes the test database."""
    server = OwnPostgres()
    server.init()
    try:
        server.adopt()
        yield server
    finally:
        server.release()
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped by the test
            server.kill()
        shutil.rmtree(server.root, ignore_errors=True)
