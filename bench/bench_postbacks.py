"""Adapter: bench/postbacks.py (accepted postbacks/s with attribution and dedupe on).

Baseline, measured in the same run with the same worker count: the bare Django view that only
redirects (bench/baseline_wsgi.py) on granian's WSGI interface, the same yardstick as the click
benchmark. The postbacks run on the product's own server command (granian ASGI, uvloop).
"""

from __future__ import annotations

from bench.bench_clicks import _setup
from bench.harness import Context, Server, run_module, verdict, wrk

TITLE = "Conversion postbacks: accepted conversions per second (issue 3)"


def run(ctx: Context) -> str:
    token, *_ = _setup(ctx)  # the plain link (the smart link is the click bench's)
    with Server(ctx, "granian", "bench.baseline_wsgi:application") as base:
        wrk(base.url(f"/r/{token}"), 1)
        baseline = wrk(base.url(f"/r/{token}"), ctx.seconds)
    r = run_module(ctx, "postbacks", {}, settings="config.settings.base")
    rate, target = r["postbacks_per_s"], r["target_per_s"]
    return (
        f"wrk -c{r['connections']} -d{r['seconds']}s; the product served as `make serve` does (granian "
        f"--interface rsgi --loop uvloop, config.asgi:application, {r['workers']} workers), PostgreSQL; "
        f"each request a fresh txn_id on a click not converted yet, of {r['clicks']:,} (click lookup, "
        "attribution, dedupe indexes, insert). The rate counts the conversions PostgreSQL holds "
        "after the run, not answers.\n\n"
        "| run | req/s | p50 | p99 | vs baseline |\n|---|---|---|---|---|\n"
        f"| baseline: bare Django redirect | {baseline.rps:,.0f} | {baseline.p50_ms:.2f} ms | "
        f"{baseline.p99_ms:.2f} ms | 1.00x |\n"
        f"| /postback, accepted conversions in PostgreSQL / s | {rate:,.0f} | {r['p50']} | {r['p99']} | "
        f"**{rate / baseline.rps:.2f}x** |\n\n"
        f"- Requests wrk completed: {r['requests_completed']:,}; accepted conversions in PostgreSQL: "
        f"{r['accepted_in_postgres']:,}; non-2xx: {r['non_2xx']:,}.\n"
        f"- Target (issue 10): >= {target:,} accepted/s: {rate:,.0f}/s -> {verdict(rate >= target)}.\n"
    )
