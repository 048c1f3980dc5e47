"""Clicks/s on the production setup against a bare Django redirect, and the app-server choice.

Production setup: PostgreSQL, Redis, the app server (``config.wsgi:application``, whose lean
WSGI app serves /c/) and one ``consume_clicks``. wrk: 64 connections over loopback. The
baseline (a bare Django view that only redirects, no middleware) runs on the same app server
with the same worker count, in the same run. After the click run the consumer drains the
stream and the clicks in PostgreSQL are counted against the requests wrk completed (wrk does
not count responses still in flight when it stops, so PostgreSQL may hold up to 64 more).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.harness import Context, Server, WrkResult, wrk

TITLE = "Click hot path (GET /c/{token})"
TARGET_RATIO = 1.4
TARGET_P99_MS = 25.0


def _fixture(ctx: Context, *args: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.clicks_fixture", *args],
        cwd=ctx.root, env=ctx.env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return out.stdout.split()


def _setup(ctx: Context) -> tuple[str, int]:
    """Migrate and create one approved link; returns its token and offer id."""
    ctx.database_ensure()
    ctx.manage("migrate", "--noinput", "-v0")
    token, offer_id = _fixture(ctx)[-2:]
    return token, int(offer_id)


def _count(ctx: Context, offer_id: int) -> int:
    return int(_fixture(ctx, "count", str(offer_id))[-1])


def _stream_len(ctx: Context) -> int:
    import redis

    prefix = ctx.env["CLICK_REDIS_PREFIX"]
    return int(redis.Redis.from_url(ctx.redis_url).xlen(f"{prefix}:clk:stream"))


def _drain(ctx: Context, consumer: subprocess.Popen[Any]) -> None:
    deadline = time.monotonic() + 300
    while _stream_len(ctx) and time.monotonic() < deadline:
        time.sleep(0.5)
    consumer.terminate()
    consumer.wait(timeout=30)


def _server_settings(ctx: Context, kind: str) -> str:
    """The app-server command line both servers of a kind share, without port and app."""
    command = Server(ctx, kind, "APP").command()
    skip = {"--port", "--bind", "--host"}
    shown = [a for i, a in enumerate(command[1:], 1) if a not in skip and command[i - 1] not in skip]
    return " ".join([Path(command[0]).name, *(a for a in shown if a != "APP")])


def _row(label: str, r: WrkResult, rss: float, ratio: str = "") -> str:
    return f"| {label} | {r.rps:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | {r.errors} | {rss:.0f} | {ratio} |"


def run(ctx: Context) -> str:
    token, offer_id = _setup(ctx)
    consume = [sys.executable, "manage.py", "consume_clicks"]
    _drain(ctx, subprocess.Popen(consume, cwd=ctx.root, env=ctx.env))  # leftovers of earlier runs
    before = _count(ctx, offer_id)
    rows = []
    results: dict[str, Any] = {}
    for kind in ("granian", "gunicorn"):
        with Server(ctx, kind, "bench.baseline_wsgi:application") as base:
            wrk(base.url(f"/r/{token}"), 1)  # warm up
            baseline = wrk(base.url(f"/r/{token}"), ctx.seconds)
            base_rss = base.worker_peak_rss_mb()
        consumer = subprocess.Popen(consume, cwd=ctx.root, env=ctx.env)
        with Server(ctx, kind, "config.wsgi:application") as app:
            warm = wrk(app.url(f"/c/{token}"), 1)
            clicks = wrk(app.url(f"/c/{token}"), ctx.seconds)
            click_rss = app.worker_peak_rss_mb()
        _drain(ctx, consumer)
        stored = _count(ctx, offer_id) - before
        before += stored
        ratio = clicks.rps / max(baseline.rps, 1e-9)
        results[kind] = (clicks, baseline, ratio, stored, warm.requests)
        rows.append(_row(f"{kind}: bare Django redirect", baseline, base_rss))
        rows.append(_row(f"{kind}: click (production path)", clicks, click_rss, f"**{ratio:.2f}x**"))
    g_clicks, _, g_ratio, g_stored, g_warm = results["granian"]
    u_clicks = results["gunicorn"][0]
    expected = g_clicks.requests + g_warm
    verdict = (
        f"- Target: >= {TARGET_RATIO}x the bare Django redirect and p99 < {TARGET_P99_MS:.0f} ms on the "
        f"chosen server (granian): {g_ratio:.2f}x, p99 {g_clicks.p99_ms:.2f} ms -> "
        f"{'met' if g_ratio >= TARGET_RATIO and g_clicks.p99_ms < TARGET_P99_MS else 'NOT met'}.\n"
        f"- Clicks in PostgreSQL after the granian run (incl. the 1 s warm-up): {g_stored:,}; requests wrk "
        f"completed: {expected:,} (difference {g_stored - expected:+,}, in-flight at wrk's stop).\n"
        f"- App server: granian {g_clicks.rps:,.0f} clicks/s vs gunicorn (gthread) {u_clicks.rps:,.0f} "
        f"clicks/s = {g_clicks.rps / max(u_clicks.rps, 1e-9):.2f}x: `make serve` uses granian.\n"
    )
    table = (
        f"wrk -c64 -t2 -d{ctx.seconds}s, {ctx.workers} workers per server, consumer running, "
        f"{os.cpu_count()} CPUs shared by wrk, the servers, PostgreSQL and Redis.\n\n"
        "Baseline (`bench/baseline_*.py`): one Django view that only returns "
        "`HttpResponseRedirect`, `MIDDLEWARE = []`, a one-route URLconf, production settings "
        "otherwise. Each server kind runs both apps with the same command line (granian's own "
        "defaults for threads and backpressure): "
        f"`{_server_settings(ctx, 'granian')}`; `{_server_settings(ctx, 'gunicorn')}`.\n\n"
        "| run | req/s | p50 ms | p99 ms | errors | peak RSS/worker MB | vs baseline |\n"
        "|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
    )
    return table + verdict
