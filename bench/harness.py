"""Shared parts of the benchmarks: environment, app servers, wrk, memory."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Context:
    root: Path
    seconds: int
    database_url: str
    redis_url: str
    workers: int
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> Context:
        database_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/affnet_bench")
        redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
        workers = int(os.environ.get("WEB_WORKERS", os.cpu_count() or 2))
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "EMAIL_URL": "smtp://127.0.0.1:25",  # production refuses to start without one
            "SECURE_SSL_REDIRECT": "False",
            "CLICK_REDIS_PREFIX": os.environ.get("CLICK_REDIS_PREFIX", "bench"),
            "LOG_LEVEL": "WARNING",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        return cls(ROOT, int(os.environ.get("BENCH_SECONDS", "10")), database_url, redis_url, workers, env)

    def describe(self) -> str:
        return (
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, {self.workers} app-server "
            f"workers, {self.seconds} s per load run, wrk over loopback."
        )

    @property
    def database_name(self) -> str:
        return self.database_url.rsplit("/", 1)[1].split("?")[0]

    @property
    def admin_url(self) -> str:
        """The same server's ``postgres`` database, to make, drop or watch the bench's."""
        return self.database_url.rsplit("/", 1)[0] + "/postgres"

    def database_ensure(self) -> None:
        """Create the benchmark database when it does not exist yet."""
        import psycopg
        from psycopg import sql

        name = self.database_name
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def database_fresh(self) -> None:
        """Start from an empty benchmark database: dropped and made again when it is the bench's
        own (its name ends in ``_bench``: runs add millions of clicks, and a database grown over a
        day's runs made beat's rollup refresh compete with the load); any other database is only
        made when missing, never dropped. The bench's Redis keys (CLICK_REDIS_PREFIX) go too."""
        import psycopg
        import redis
        from psycopg import sql

        name = self.database_name
        if name.endswith("_bench"):
            with psycopg.connect(self.admin_url, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        self.database_ensure()
        client = redis.Redis.from_url(self.redis_url)
        batch: list[bytes] = []
        for key in client.scan_iter(match=f"{self.env['CLICK_REDIS_PREFIX']}:*", count=10_000):
            batch.append(key)
            if len(batch) == 10_000:
                client.unlink(*batch)
                batch.clear()
        if batch:
            client.unlink(*batch)

    def manage(self, *args: str) -> None:
        subprocess.run([sys.executable, "manage.py", *args], cwd=self.root, env=self.env, check=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """An app server process serving ``app`` (module:attr) on a free loopback port."""

    def __init__(self, ctx: Context, kind: str, app: str, extra_env: dict[str, str] | None = None) -> None:
        self.ctx, self.kind, self.app = ctx, kind, app
        self.port = free_port()
        self.env = {**ctx.env, **(extra_env or {})}
        self.proc: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        """``kind``: granian (WSGI), granian-rsgi (RSGI on uvloop, as ``make serve`` runs the
        product) or granian-asgi (ASGI on uvloop); plain WSGI serves only the bare baseline."""
        venv_bin = Path(sys.executable).parent
        w = str(self.ctx.workers)
        if self.kind in ("granian-asgi", "granian-rsgi"):
            return [str(venv_bin / "granian"), "--interface", self.kind.split("-")[1], "--loop", "uvloop",
                    "--host", "127.0.0.1", "--port", str(self.port), "--workers", w, "--no-ws",
                    self.app]  # fmt: skip
        assert self.kind == "granian", self.kind
        return [str(venv_bin / "granian"), "--interface", "wsgi", "--host", "127.0.0.1",
                "--port", str(self.port), "--workers", w, "--no-ws", self.app]  # fmt: skip

    def __enter__(self) -> Server:
        self.proc = subprocess.Popen(self.command(), cwd=self.ctx.root, env=self.env)
        # Ready once workers answer HTTP, not when the port opens: the master listens at once,
        # while each worker imports Django and the visitor databases for seconds on a loaded
        # machine, and a load run started before that measured nothing (0 req/s).
        deadline = time.monotonic() + float(os.environ.get("BENCH_START_SECONDS", "90"))
        answered = 0
        while time.monotonic() < deadline and answered < 4 * self.ctx.workers:
            answered += _answers(self.url("/healthz"))
            if not answered:
                time.sleep(0.2)
        if not answered:
            raise RuntimeError(f"{self.kind} did not start")
        time.sleep(1.0)  # let the remaining workers finish importing
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.proc is not None
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def worker_peak_rss_mb(self) -> float:
        """Largest peak RSS (VmHWM) among the server's worker processes."""
        assert self.proc is not None
        peaks = [_hwm_kb(pid) for pid in _descendants(self.proc.pid)] or [_hwm_kb(self.proc.pid)]
        return max(peaks) / 1024


class Topology:
    """Everything ``make worker`` starts, started by ``make worker`` itself: the click consumer,
    a Celery worker and beat, niced as the Makefile does. Beat's intervals come from the
    environment (``BENCH_BEAT_SECONDS``, default 4), so the periodic rollup refresh and the
    reconcile tick run many times during a load run instead of never."""

    def __init__(self, ctx: Context) -> None:
        beat = os.environ.get("BENCH_BEAT_SECONDS", "4")
        self.ctx = ctx
        self.env = {
            **ctx.env,
            "REPORTS_ROLLUP_INTERVAL_SECONDS": beat,
            "PAYOUTS_RECONCILE_INTERVAL_SECONDS": beat,
            "CELERY_LOG_LEVEL": "WARNING",
        }
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Topology:
        # Its own session, so stopping it reaches make's children (the recipe's kill 0 does too).
        venv = Path(sys.executable).parents[1]
        command = ["make", "--no-print-directory", "worker", f"PY={sys.executable}", f"VENV={venv}"]
        self.proc = subprocess.Popen(command, cwd=self.ctx.root, env=self.env, start_new_session=True)
        time.sleep(5)  # Django setup in three processes; beat's first ticks
        if self.proc.poll() is not None:
            raise RuntimeError("make worker exited")
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.proc is not None
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _answers(url: str) -> int:
    """1 when the server answered ``url`` with any HTTP status, 0 when it did not answer."""
    import urllib.error
    import urllib.request

    try:
        urllib.request.urlopen(url, timeout=5).close()
    except urllib.error.HTTPError:
        return 1  # any status means a worker is up
    except OSError:
        return 0
    return 1


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], list(children.get(pid, []))
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def _hwm_kb(pid: int) -> int:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    m = re.search(r"VmHWM:\s+(\d+) kB", text)
    return int(m.group(1)) if m else 0


@dataclass
class WrkResult:
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def _ms(value: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", value)
    if not m:
        raise ValueError(f"unexpected wrk latency {value!r}")
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
    return float(m.group(1)) * scale[m.group(2)]


def wrk_percentile(out: str, pct: int) -> float:
    """A latency percentile (ms) from wrk --latency output.

    Anchored to the start of the "Latency Distribution" line: the Thread Stats table's "+/- Stdev"
    column also prints percentages ("75.50%"), which an unanchored ``50%`` matched, giving nan.
    """
    m = re.search(rf"^\s+{pct}%\s+(\S+)\s*$", out, re.MULTILINE)
    if not m:
        raise ValueError(f"no {pct}% line in wrk output")
    return _ms(m.group(1))


def wrk(
    url: str, seconds: int, connections: int = 64, threads: int = 2, *, script: Sequence[str] = ()
) -> WrkResult:
    """``script``: a wrk Lua script under bench/ and its arguments (``-s``, after ``--``)."""
    if not shutil.which("wrk"):
        raise RuntimeError("wrk is not installed (apt-get install wrk)")
    command = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency"]
    if script:
        command += ["-s", str(ROOT / "bench" / script[0]), url, "--", *script[1:]]
    else:
        command.append(url)
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50, p99 = wrk_percentile(out, 50), wrk_percentile(out, 99)
    errors_m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock_m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = int(errors_m.group(1)) if errors_m else 0
    if sock_m:
        errors += sum(int(g) for g in sock_m.groups())
    return WrkResult(requests, rps, p50, p99, errors)


def env_int(name: str, full: int, smoke: int) -> int:
    """A size from the environment; otherwise the full size, or the small one when BENCH_SMOKE=1."""
    if os.environ.get(name):
        return int(os.environ[name])
    return smoke if smoke_mode() else full


def smoke_mode() -> bool:
    return os.environ.get("BENCH_SMOKE", "") not in ("", "0", "false", "False")


def run_module(ctx: Context, module: str, kwargs: dict[str, object], settings: str | None = None) -> dict:  # type: ignore[type-arg]
    """Run ``bench.<module>.run(**kwargs)`` in its own process and return its dict.

    Each of these modules calls ``django.setup()`` with its own settings and databases, so they
    cannot share the runner's process (or each other's).
    """
    env = {k: v for k, v in ctx.env.items() if k != "DJANGO_SETTINGS_MODULE"}
    if settings:
        env["DJANGO_SETTINGS_MODULE"] = settings
    code = (
        "import json, sys, importlib\n"
        f"m = importlib.import_module('bench.{module}')\n"
        "r = m.run(**json.loads(sys.argv[1]))\n"
        "print('\\n@@BENCH@@' + json.dumps(r, default=str))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(kwargs)],
        cwd=ctx.root, env=env, check=False, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    marker = out.stdout.rfind("@@BENCH@@")
    if out.returncode != 0 or marker < 0:
        raise RuntimeError(f"bench.{module} failed (exit {out.returncode}):\n{out.stdout[-3000:]}")
    return json.loads(out.stdout[marker + len("@@BENCH@@") :].splitlines()[0])  # type: ignore[no-any-return]


def verdict(met: bool) -> str:
    return "**met**" if met else "**NOT met**"
