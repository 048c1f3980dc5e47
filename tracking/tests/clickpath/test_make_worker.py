"""``make worker`` supervises its three children (issue 11): the click consumer, the Celery worker
and beat each run in a restart loop, so one killed by SIGKILL (the OOM killer) runs again within
seconds, and SIGTERM to make stops them all, leaving no orphan.

``make worker`` itself runs, with VAR_DIR in a temporary directory and its own Redis and
PostgreSQL on spare ports (the fault tests' OwnRedis and OwnPostgres)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]
CHILDREN: dict[str, Callable[[list[str]], bool]] = {
    "consume_clicks": lambda argv: "consume_clicks" in argv,
    "celery worker": lambda argv: "celery" in " ".join(argv[:2]) and "worker" in argv,
    "celery beat": lambda argv: "celery" in " ".join(argv[:2]) and "beat" in argv,
}


def _marked(mark: str) -> dict[int, tuple[int, list[str]]]:
    """Every process started with ``mark`` in its environment: pid -> (parent pid, argv)."""
    found = {}
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if mark.encode() not in (proc / "environ").read_bytes():
                continue
            argv = (proc / "cmdline").read_bytes().decode(errors="replace").split("\0")
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        found[int(proc.name)] = (ppid, [a for a in argv if a])
    return found


def _child(mark: str, name: str) -> int | None:
    """The pid of ``make worker``'s child ``name``: the command its restart loop runs (for the
    Celery worker its main process, not a pool process, whose parent is the worker)."""
    procs = _marked(mark)
    for pid, (ppid, argv) in procs.items():
        parent_argv = procs.get(ppid, (0, []))[1]
        if CHILDREN[name](argv) and not CHILDREN[name](parent_argv) and argv[0] != "nice":
            return pid
    return None


def _wait_for(check: Callable[[], Any], seconds: float) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    return check()


def test_make_worker_restarts_each_child_and_stops_them_all(own_redis, own_postgres, tmp_path):
    mark = f"AFFNET_WORKER_TEST={uuid.uuid4().hex}"
    venv = Path(sys.executable).parents[1]
    env = {
        **os.environ,
        mark.split("=")[0]: mark.split("=")[1],
        "SECRET_KEY": "w" * 60,
        "ALLOWED_HOSTS": "127.0.0.1",
        "EMAIL_URL": "smtp://127.0.0.1:25",  # production refuses to start without one
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{own_postgres.port}/faults",
        "DB_CONN_MAX_AGE": "0",
        "REDIS_URL": own_redis.url,
        "VAR_DIR": str(tmp_path / "var"),
        "CLICK_SPOOL_DIR": str(tmp_path / "spool"),
        "CELERY_LOG_LEVEL": "WARNING",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    command = ["make", "--no-print-directory", "worker", f"PY={sys.executable}", f"VENV={venv}",
               "WORKER_RESTART_DELAY=1"]  # fmt: skip
    make = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    try:
        first = {name: _wait_for(lambda n=name: _child(mark, n), 60) for name in CHILDREN}
        assert all(first.values()), first
        for name, pid in first.items():
            os.kill(pid, signal.SIGKILL)
            again = _wait_for(lambda n=name, p=pid: (c := _child(mark, n)) not in (None, p) and c, 10)
            assert again, f"{name} was not started again"
            assert make.poll() is None
        assert _wait_for(lambda: all(_child(mark, n) for n in CHILDREN), 10)
        make.send_signal(signal.SIGTERM)  # to make alone, as a supervisor or Ctrl-C's shell does
        make.wait(timeout=60)
        assert _wait_for(lambda: not _marked(mark), 30), _marked(mark)  # no orphan left running
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
        for pid in _marked(mark):
            os.kill(pid, signal.SIGKILL)
