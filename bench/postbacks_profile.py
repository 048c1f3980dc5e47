"""Work per postback on the edge's one path, counted, not timed: wall-clock rates on a shared
machine say more about the neighbours than about the code, while the calls a postback makes
(cProfile) and the instructions it runs (valgrind's callgrind) do not depend on the load.

The postbacks go in-process through the edge exactly as granian hands them over
(``Edge.__rsgi__``, tracking/clickpath/edge.py, with ``PostbackRoute``) on uvloop, against
PostgreSQL: the common postback of bench/postbacks.py (token, a stored click, goal ``lead``, a
fresh txn_id), in waves of ``--wave`` at once, as a loaded worker sees them (its click lookups
and COPYs batch by the wave). Every one must be accepted, and the script checks PostgreSQL
holds them.

    # once: a throw-away advertiser, offer and clicks (DATABASE_URL, REDIS_URL set)
    python -m bench.postbacks_profile prepare --clicks 20000 > /tmp/pb.json
    # function calls per postback (cProfile around the measured postbacks only)
    python -m bench.postbacks_profile run --fixture /tmp/pb.json -n 2000 --cprofile
    # instructions per postback: callgrind counts only the measured postbacks (instrumentation
    # is switched on and off around them with callgrind_control); divide "Collected" by -n
    valgrind --tool=callgrind --instr-atstart=no .venv/bin/python -m bench.postbacks_profile \
        run --fixture /tmp/pb.json -n 300 --callgrind

Each run takes clicks from the fixture's list at ``--offset`` (a click converts once per goal),
so successive runs pass different offsets or a fresh fixture.

PostgreSQL's side of a postback (its row, indexes, triggers, constraint checks) is about as
large as Python's. Count it with a throw-away cluster run whole under callgrind (autovacuum off,
so nothing else replans), each backend writing its own file when it exits; the loop's backend
is the largest one a run leaves. Two runs of different -n, on fresh clicks, cancel the
connection's start and first plans: (total of -n 800 - total of -n 200) / 600 per postback.

    runuser -u postgres -- initdb -D /tmp/pg -A trust -U postgres
    runuser -u postgres -- valgrind --tool=callgrind --callgrind-out-file=/tmp/pgcg/cg.%p \\
        postgres -D /tmp/pg -p 55444 -c autovacuum=off -c jit=off &
    pg_dump ... | psql -p 55444 ...; psql -p 55444 -c "VACUUM ANALYZE"   # the fixture's database
    DATABASE_URL=postgres://postgres@127.0.0.1:55444/... python -m bench.postbacks_profile run \\
        --fixture /tmp/pb.json -n 200 --offset 0    # then -n 800 --offset 300; grep ^summary
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
import time
from typing import Any

# Postbacks before the measured ones: the catalog cache, prepared statements, the id pool and
# the visitor databases are loaded by then.
WARMUP = 64


def _settings() -> None:
    # The production settings, as bench/postbacks.py serves them.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(48))
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
    os.environ.setdefault("EMAIL_URL", "smtp://127.0.0.1:25")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # The catalog (offer, goals, advertiser) is reloaded every few seconds in production, once
    # per worker: nothing per postback. Under valgrind a run is ~50x slower, and a 5-second TTL
    # would charge the postbacks with reloads production never pays per postback.
    os.environ.setdefault("CONVERSION_CATALOG_TTL_SECONDS", "3600")


def _callgrind(on: bool) -> None:
    """Switch callgrind's instrumentation on or off for this process. The command is handled
    while the process runs code, so this spins until callgrind_control returns (what the spin
    adds to the count is about 0.5 million instructions, under 1% of 300 postbacks)."""
    command = ["callgrind_control", "-i", "on" if on else "off", str(os.getpid())]
    control = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while control.poll() is None and time.monotonic() < deadline:
        sum(range(100))
    if control.returncode != 0:
        sys.exit(f"callgrind_control failed ({control.returncode}): run under valgrind --tool=callgrind")


def prepare(clicks: int) -> dict[str, Any]:
    from bench import postbacks

    postbacks.CLICKS = clicks
    offer_id, token, ids = postbacks._setup()
    return {"offer_id": offer_id, "token": token, "clicks": ids}


class _Headers:
    def get(self, key: str, default: Any = None) -> Any:
        return default

    def items(self) -> list[tuple[str, str]]:
        return []


class _Scope:
    """granian's RSGI scope for ``GET /postback?...`` (the attributes the edge reads)."""

    proto, method, path, scheme, http_version = "http", "GET", "/postback", "http", "1.1"
    client, server = "203.0.113.7:40000", "127.0.0.1:8000"
    headers = _Headers()

    def __init__(self, query: str) -> None:
        self.query_string = query


class _Proto:
    """granian's RSGI protocol object: the one answer."""

    status = 0
    body = b""

    async def __call__(self) -> bytes:
        return b""

    def response_bytes(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status, self.body = status, body


async def _drive(edge: Any, queries: list[str], wave: int) -> list[_Proto]:
    answers: list[_Proto] = []
    for start in range(0, len(queries), wave):
        protos = [_Proto() for _ in queries[start : start + wave]]
        await asyncio.gather(
            *(edge.__rsgi__(_Scope(q), p) for q, p in zip(queries[start : start + wave], protos, strict=True))
        )
        answers.extend(protos)
    return answers


def run(
    fixture: dict[str, Any],
    *,
    n: int,
    offset: int,
    wave: int,
    profile: bool,
    top: int = 0,
    callgrind: bool = False,
) -> dict[str, Any]:
    import django

    django.setup()
    import uvloop

    from tracking.clickpath.edge import Edge, _started
    from tracking.conversions.route import PostbackRoute
    from tracking.models import Conversion

    clicks = fixture["clicks"][offset : offset + WARMUP + n]
    if len(clicks) < WARMUP + n:
        sys.exit(f"the fixture has {len(fixture['clicks'])} clicks; this run needs {offset + WARMUP + n}")
    run_id = secrets.token_hex(4)
    queries = [
        f"token={fixture['token']}&goal=lead&click_id={c}&txn_id={run_id}{'w' if i < WARMUP else '-'}{i}"
        for i, c in enumerate(clicks)
    ]

    async def rest(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError(f"{scope['path']} left the postback path")

    edge = Edge(rest, postback=PostbackRoute())

    async def main() -> tuple[list[_Proto], pstats.Stats | None]:
        _started()
        await _drive(edge, queries[:WARMUP], wave)
        profiler = cProfile.Profile() if profile else None
        if callgrind:
            _callgrind(True)
        if profiler is not None:
            profiler.enable()
        answers = await _drive(edge, queries[WARMUP:], wave)
        if profiler is not None:
            profiler.disable()
        if callgrind:
            _callgrind(False)
        await edge.closing()
        return answers, pstats.Stats(profiler) if profiler is not None else None

    answers, stats = uvloop.run(main())
    refused = [(p.status, p.body[:200]) for p in answers if p.status != 200 or b'"accepted"' not in p.body]
    stored = Conversion.objects.filter(offer_id=fixture["offer_id"], txn_id__startswith=f"{run_id}-").count()
    out: dict[str, Any] = {"postbacks": n, "wave": wave, "refused": len(refused), "stored": stored}
    if refused:
        out["first_refused"] = repr(refused[0])
    if stats is not None:
        total: int = stats.total_calls  # type: ignore[attr-defined]
        out["calls_per_postback"] = round(total / n, 1)
        if top:
            stats.sort_stats("ncalls").print_stats(top)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--clicks", type=int, default=20_000)
    r = sub.add_parser("run")
    r.add_argument("--fixture", required=True)
    r.add_argument("-n", type=int, default=2000)
    r.add_argument("--offset", type=int, default=0)
    r.add_argument("--wave", type=int, default=32)
    r.add_argument("--cprofile", action="store_true")
    r.add_argument("--callgrind", action="store_true", help="under valgrind: count only the postbacks")
    r.add_argument("--top", type=int, default=0, help="print the N functions called most often")
    args = parser.parse_args()
    _settings()
    if args.cmd == "prepare":
        import django

        django.setup()
        print(json.dumps(prepare(args.clicks)))
        return
    with open(args.fixture) as f:
        fixture = json.load(f)
    out = run(
        fixture,
        n=args.n,
        offset=args.offset,
        wave=args.wave,
        profile=args.cprofile,
        top=args.top,
        callgrind=args.callgrind,
    )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
