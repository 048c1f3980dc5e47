"""The whole system's CPU per click, per process: on a 2-core machine the click consumer,
redis-server, PostgreSQL and beat's periodic work all take CPU from the app server, so what a
click costs is the sum over every process that touches it.

The production topology as ``python -m bench clicks`` runs it (bench/harness.py: the app server
as granian's RSGI interface on uvloop, and ``make worker``: the click consumer, a Celery worker
and beat with its rollup refresh and reconcile tick every BENCH_BEAT_SECONDS), against a
redis-server of its own (started here on a free port, no persistence, like the shared one), so
its counts are the bench's alone. A load generator in this process sends ``-n`` clicks
(``GET /c/{token}`` as wrk sends them: no query, no cookie, no user agent) over ``--conns``
keep-alive connections at ``--rate`` clicks/s at most, after a warm-up whose clicks are drained
first. Each process's CPU time (user + system, /proc/PID/stat) is taken from the first measured
click until the consumer has emptied the stream (PostgreSQL backends of the bench database are
added as they appear); each row is CPU microseconds over the clicks stored. Instructions would
be the load-independent measure, but this VM's perf has no instruction counter (``perf stat -e
instructions`` answers ``<not supported>``); CPU time still excludes waiting for the cores, and
callgrind (bench/clicks_profile.py) counts the edge's and the consumer's instructions. Beat's
and the Celery worker's work is periodic, so their share per click falls as the rate rises:
compare runs at the same rate.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/affnet_clicksys \
        python -m bench.clicks_system -n 20000 --rate 1000 --kind plain
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.harness import Context, Server, Topology, _descendants, free_port

ROLES = ("app server", "click consumer", "redis-server", "postgres backends", "celery worker", "celery beat")


class _Redis:
    """A private redis-server, so its CPU is this bench's only."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="clicksys-redis-")
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> _Redis:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            ping = subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True)
            if ping.returncode == 0:
                return self
            time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    def __exit__(self, *exc: object) -> None:
        assert self.proc is not None
        self.proc.terminate()
        self.proc.wait(timeout=10)


def _fixture(ctx: Context, *args: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.clicks_fixture", *args],
        cwd=ctx.root, env=ctx.env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return out.stdout.split()


def _stored(ctx: Context, kind: str, ids: dict[str, int]) -> int:
    if kind == "smart":
        return int(_fixture(ctx, "count-smart", str(ids["smart"]))[-1])
    return int(_fixture(ctx, "count", str(ids[kind]))[-1])


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _topology_roles(root: int) -> dict[str, list[int]]:
    roles: dict[str, list[int]] = {"click consumer": [], "celery worker": [], "celery beat": []}
    for pid in _descendants(root):
        cmd = _cmdline(pid)
        argv0 = cmd.split(" ", 1)[0]
        if "python" not in argv0 and not argv0.endswith("/celery"):
            continue  # make, the restart loops' shells
        if "consume_clicks" in cmd:
            roles["click consumer"].append(pid)
        elif " beat" in cmd:
            roles["celery beat"].append(pid)
        elif " worker" in cmd:
            roles["celery worker"].append(pid)
    return roles


def _backends(ctx: Context) -> set[int]:
    import psycopg

    with psycopg.connect(ctx.admin_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [ctx.database_name],
        ).fetchall()
    return {int(r[0]) for r in rows}


class _Cpu:
    """CPU time (utime + stime, every thread) some processes spend until stopped, from
    /proc/PID/stat: this VM exposes no instruction counter to ``perf stat`` (``<not
    supported>``), so CPU seconds per process are the measure; unlike wall-clock rates they
    do not count the time a process waits for the cores."""

    def __init__(self, pids: list[int]) -> None:
        self.start = {pid: _ticks(pid) for pid in pids}

    def stop(self) -> float:
        """Seconds of CPU since start."""
        return sum(max(_ticks(pid) - t, 0) for pid, t in self.start.items()) / os.sysconf("SC_CLK_TCK")


def _ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime, stime


async def _load(port: int, path: str, n: int, conns: int, rate: float) -> dict[int, int]:
    """``n`` GETs over ``conns`` keep-alive connections, at most ``rate`` per second overall."""
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    statuses: dict[int, int] = {}
    left = [n]
    started = time.monotonic()
    sent = [0]

    async def one_connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while left[0] > 0:
            left[0] -= 1
            due = started + sent[0] / rate
            sent[0] += 1
            if due > time.monotonic():
                await asyncio.sleep(due - time.monotonic())
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            statuses[status] = statuses.get(status, 0) + 1
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    await reader.readexactly(int(line.split(b":", 1)[1]))
        writer.close()

    await asyncio.gather(*(one_connection() for _ in range(conns)))
    return statuses


def _drain(ctx: Context) -> None:
    import redis

    client = redis.Redis.from_url(ctx.redis_url)
    key = f"{ctx.env['CLICK_REDIS_PREFIX']}:clk:stream"
    deadline = time.monotonic() + 600
    while client.xlen(key) and time.monotonic() < deadline:
        time.sleep(0.25)
    time.sleep(1.0)  # the last batch read is in its transaction


def measure(
    ctx: Context, *, redis_pid: int, kind: str, n: int, conns: int, rate: float, warmup: int
) -> dict[str, object]:
    ctx.database_ensure()
    ctx.manage("migrate", "--noinput", "-v0")
    token, offer_id, smart_token, smart_id = _fixture(ctx)[-4:]
    freq_token, freq_offer_id = _fixture(ctx, "freq")[-2:]
    tokens = {"plain": token, "smart": smart_token, "freq": freq_token}
    ids = {"plain": int(offer_id), "smart": int(smart_id), "freq": int(freq_offer_id)}
    path = f"/c/{tokens[kind]}"
    with Server(ctx, "granian-rsgi", "config.asgi:application") as server, Topology(ctx) as topo:
        asyncio.run(_load(server.port, path, warmup, conns, rate))
        _drain(ctx)
        before = _stored(ctx, kind, ids)
        assert server.proc is not None
        assert topo.proc is not None
        groups = {"app server": [server.proc.pid, *_descendants(server.proc.pid)],
                  **_topology_roles(topo.proc.pid), "redis-server": [redis_pid]}  # fmt: skip
        perfs = {role: [_Cpu(pids)] for role, pids in groups.items() if pids}
        seen = _backends(ctx)
        perfs["postgres backends"] = [_Cpu(sorted(seen))] if seen else []
        started = time.monotonic()
        loop_load = asyncio.new_event_loop()
        task = loop_load.create_task(_load(server.port, path, n, conns, rate))
        while not task.done():  # attach to backends opened meanwhile (a task's new connection)
            loop_load.run_until_complete(asyncio.wait([task], timeout=1.0))
            new = _backends(ctx) - seen
            if new:
                seen |= new
                perfs["postgres backends"].append(_Cpu(sorted(new)))
        statuses = task.result()
        loop_load.close()
        load_seconds = time.monotonic() - started
        _drain(ctx)
        counts = {role: sum(p.stop() for p in ps) for role, ps in perfs.items()}
        seconds = time.monotonic() - started
    stored = _stored(ctx, kind, ids) - before
    per_click = {role: round(counts.get(role, 0) * 1e6 / max(stored, 1), 1) for role in ROLES}
    return {
        "kind": kind,
        "clicks_sent": n,
        "statuses": statuses,
        "stored": stored,
        "load_seconds": round(load_seconds, 1),
        "measured_seconds": round(seconds, 1),
        "cpu_us_per_click": per_click,
        "total_us_per_click": round(sum(per_click.values()), 1),
        "pids": {role: len(ps) for role, ps in groups.items()},
        "backends": len(seen),
    }


def _table(out: dict[str, object]) -> str:
    per = out["cpu_us_per_click"]
    assert isinstance(per, dict)
    total = float(out["total_us_per_click"])  # type: ignore[arg-type]
    rows = ["| process | CPU us/click | share |", "|---|---:|---:|"]
    for role in ROLES:
        rows.append(f"| {role} | {per[role]:.1f} | {per[role] / max(total, 1):.0%} |")
    rows.append(f"| total | {total:.1f} | |")
    return "\n".join(rows)


def main() -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("-n", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=1000.0, help="clicks per second at most")
    parser.add_argument("--conns", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=1000)
    parser.add_argument("--kind", choices=("plain", "smart", "freq"), default="plain")
    args = parser.parse_args()
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/affnet_clicksys")
    os.environ.setdefault("BENCH_START_SECONDS", "600")  # a loaded machine imports slowly
    with _Redis() as private:
        assert private.proc is not None
        os.environ["REDIS_URL"] = f"redis://127.0.0.1:{private.port}/0"
        ctx = Context.from_env()
        out = measure(
            ctx, redis_pid=private.proc.pid, kind=args.kind, n=args.n, conns=args.conns,
            rate=args.rate, warmup=args.warmup,
        )  # fmt: skip
    print(json.dumps(out))
    print(_table(out))


if __name__ == "__main__":
    main()
