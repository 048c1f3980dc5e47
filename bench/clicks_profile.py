"""Work per click on the edge's one path, and per stream line in the click consumer, counted,
not timed: wall-clock rates on a shared machine say more about the neighbours than about the
code, while the instructions a click runs (valgrind's callgrind) do not depend on the load.

The clicks go in-process through the edge exactly as granian hands them over
(``Edge.__rsgi__``, tracking/clickpath/edge.py) on uvloop, with the click script run by Redis,
as wrk sends them in ``python -m bench clicks`` (``GET /c/{token}``, no query, no cookie, no
user agent), in waves of ``--wave`` at once, as a loaded worker sees them (its click scripts
batch by the wave). Every one must be answered with a 302. ``--kind`` picks the link of
bench/clicks_fixture.py: ``plain``, ``smart`` (three paths and a catch-all) or ``freq`` (a
frequency cap across offers, never reached).

``drain`` then runs the click consumer (tracking/clickpath/consumer.py, ``Consumer.step``, as
``make worker`` runs it) until the stream is empty, and counts the clicks PostgreSQL gained
(use a database of its own: every click there is counted): its instructions over the lines it
wrote are the consumer's cost per line (the Python side only: the COPY's work in PostgreSQL
is the server's).

    # once (DATABASE_URL, REDIS_URL set): the bench links
    python -m bench.clicks_profile prepare > /tmp/clk.json
    # instructions per click: callgrind counts only the measured clicks (instrumentation is
    # switched on and off around them with callgrind_control); divide "Collected" by -n
    valgrind --tool=callgrind --instr-atstart=no .venv/bin/python -m bench.clicks_profile \
        run --fixture /tmp/clk.json --kind plain -n 2000 --callgrind
    # instructions per stream line in the consumer (the lines the runs above left)
    valgrind --tool=callgrind --instr-atstart=no .venv/bin/python -m bench.clicks_profile \
        drain --callgrind
    # function calls per click (cProfile around the measured clicks only)
    python -m bench.clicks_profile run --fixture /tmp/clk.json --kind freq -n 2000 --cprofile --top 30

The script runs the click script in the Redis of REDIS_URL under the key prefix
``CLICK_REDIS_PREFIX`` (default here: ``clickprof``, apart from the application's keys).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import secrets
import subprocess
import sys
from typing import Any

from bench.postbacks_profile import _callgrind

# Clicks before the measured ones: the link snapshots, the policy, the visitor databases and
# the Redis connection are loaded by then.
WARMUP = 64
KINDS = ("plain", "smart", "freq")


def _settings() -> None:
    # The production settings, as ``make serve`` runs them.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(48))
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
    os.environ.setdefault("EMAIL_URL", "smtp://127.0.0.1:25")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("CLICK_REDIS_PREFIX", "clickprof")
    # The link snapshots and the click policy are reloaded every few seconds in production, in
    # the background: nothing per click. Under valgrind a run is ~50x slower, and 5-second
    # refreshes would charge the clicks with reloads production never pays per click.
    os.environ.setdefault("CLICK_LINK_CACHE_SECONDS", "3600")
    os.environ.setdefault("CLICK_POLICY_REFRESH_SECONDS", "3600")


def _fixture(*args: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.clicks_fixture", *args], check=True, stdout=subprocess.PIPE, text=True
    )
    return out.stdout.split()


def prepare() -> dict[str, Any]:
    token, offer_id, smart_token, smart_id = _fixture()[-4:]
    # A limit out of reach: the one visitor of these waves is counted on every click, never refused.
    freq_token, freq_offer_id = _fixture("freq", "1000000000")[-2:]
    return {
        "plain": {"token": token, "offer_id": int(offer_id)},
        "smart": {"token": smart_token, "smart_id": int(smart_id)},
        "freq": {"token": freq_token, "offer_id": int(freq_offer_id)},
    }


class _Headers:
    """wrk's request carries no header the click reads (no user agent, cookie or referrer)."""

    def get(self, key: str, default: Any = None) -> Any:
        return default

    def items(self) -> list[tuple[str, str]]:
        return []


class _Scope:
    """granian's RSGI scope for ``GET /c/{token}`` (the attributes the edge reads)."""

    proto, method, scheme, http_version, query_string = "http", "GET", "http", "1.1", ""
    client, server = "127.0.0.1:40000", "127.0.0.1:8000"
    headers = _Headers()

    def __init__(self, path: str) -> None:
        self.path = path


class _Proto:
    """granian's RSGI protocol object: the one answer."""

    status = 0

    async def __call__(self) -> bytes:
        return b""

    def response_bytes(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status = status


async def _drive(edge: Any, path: str, n: int, wave: int) -> list[int]:
    statuses: list[int] = []
    for start in range(0, n, wave):
        protos = [_Proto() for _ in range(min(wave, n - start))]
        await asyncio.gather(*(edge.__rsgi__(_Scope(path), p) for p in protos))
        statuses.extend(p.status for p in protos)
    return statuses


def _counted(callgrind: bool, profiler: cProfile.Profile | None, on: bool) -> None:
    if callgrind:
        _callgrind(on)
    if profiler is not None:
        if on:
            profiler.enable()
        else:
            profiler.disable()


def _stats_out(out: dict[str, Any], stats: pstats.Stats | None, per: int, top: int) -> None:
    if stats is None:
        return
    total: int = stats.total_calls  # type: ignore[attr-defined]
    out["calls_per_item"] = round(total / max(per, 1), 1)
    if top:
        stats.sort_stats("ncalls").print_stats(top)


def run(
    kind: str, token: str, *, n: int, wave: int, profile: bool, callgrind: bool, top: int
) -> dict[str, Any]:
    import django

    django.setup()
    import uvloop

    from tracking.clickpath.edge import Edge, _started
    from tracking.conversions.route import PostbackRoute

    async def rest(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError(f"{scope['path']} left the click path")

    edge = Edge(rest, postback=PostbackRoute())
    path = f"/c/{token}"

    async def main() -> tuple[list[int], pstats.Stats | None]:
        _started()
        await _drive(edge, path, WARMUP, wave)
        profiler = cProfile.Profile() if profile else None
        _counted(callgrind, profiler, True)
        statuses = await _drive(edge, path, n, wave)
        _counted(callgrind, profiler, False)
        await edge.closing()
        return statuses, pstats.Stats(profiler) if profiler is not None else None

    statuses, stats = uvloop.run(main())
    out: dict[str, Any] = {
        "kind": kind,
        "clicks": n,
        "wave": wave,
        "not_302": sum(s != 302 for s in statuses),
    }
    _stats_out(out, stats, n, top)
    return out


def drain(*, profile: bool, callgrind: bool, top: int) -> dict[str, Any]:
    import django

    django.setup()
    from tracking.clickpath import consumer, redis_conn
    from tracking.clickpath.store import stream_key
    from tracking.models import Click

    before = Click.objects.count()  # the profile's own database: every click is the bench's
    client = redis_conn.client_always()
    consumer.group_ensure(client)
    worker = consumer.Consumer(name="clicks-profile")
    waiting = int(client.xlen(stream_key()))
    lines = 0
    profiler = cProfile.Profile() if profile else None
    _counted(callgrind, profiler, True)
    while True:
        written = worker.step(block_ms=0)
        if not written:
            break
        lines += written
    _counted(callgrind, profiler, False)
    stored = Click.objects.count() - before
    out = {"entries": waiting, "lines": lines, "stored": stored}
    _stats_out(out, pstats.Stats(profiler) if profiler is not None else None, lines, top)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("prepare")
    for name in ("run", "drain"):
        p = sub.add_parser(name)
        p.add_argument("--cprofile", action="store_true")
        p.add_argument(
            "--callgrind", action="store_true", help="under valgrind: count the measured part only"
        )
        p.add_argument("--top", type=int, default=0, help="print the N functions called most often")
        if name == "run":
            p.add_argument("--fixture", required=True)
            p.add_argument("--kind", choices=KINDS, default="plain")
            p.add_argument("-n", type=int, default=2000)
            p.add_argument("--wave", type=int, default=32)
    args = parser.parse_args()
    _settings()
    if args.cmd == "prepare":
        print(json.dumps(prepare()))
        return
    if args.cmd == "run":
        with open(args.fixture) as f:
            fixture = json.load(f)
        out = run(
            args.kind,
            fixture[args.kind]["token"],
            n=args.n,
            wave=args.wave,
            profile=args.cprofile,
            callgrind=args.callgrind,
            top=args.top,
        )
    else:
        out = drain(profile=args.cprofile, callgrind=args.callgrind, top=args.top)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
