"""Adapter: bench/fallback.py (the click path's database fallback, Redis stopped, on a big
clicks table vs a small one, with the lookups' plans).

Sizes: BENCH_FALLBACK_ROWS (clicks in the table, 5,000,000; 200,000 with BENCH_SMOKE=1; issue 11
asks for 100,000,000: set it, and allow an hour and ~40 GB), BENCH_FALLBACK_CLICKS (clicks
measured per table, 5,000; 1,000 smoke), BENCH_FALLBACK_THREADS (4, as the edge's thread pool).
"""

from __future__ import annotations

from bench.harness import Context, env_int, run_module, verdict

TITLE = "Clicks with Redis down: the database fallback on a big table (issue 11)"
# Stays fast, measured against the small table in the same run (absolute numbers depend on the
# machine and its load): at least half its rate, at most twice its p99, no sequential scan.
MIN_RATE_RATIO = 0.5
MAX_P99_RATIO = 2.0


def run(ctx: Context) -> str:
    kwargs = {
        "rows": env_int("BENCH_FALLBACK_ROWS", 5_000_000, 200_000),
        "clicks": env_int("BENCH_FALLBACK_CLICKS", 5_000, 1_000),
        "threads": env_int("BENCH_FALLBACK_THREADS", 4, 4),
    }
    r = run_module(ctx, "fallback", kwargs)
    small, big = r["small"], r["big"]
    met = r["rate_ratio"] >= MIN_RATE_RATIO and r["p99_ratio"] <= MAX_P99_RATIO and not r["sequential_scans"]
    plans = "\n".join(f"{name}:\n\n```\n{plan}\n```\n" for name, plan in r["plans"].items())
    return (
        f"Redis stopped: every click is written by the edge's fallback (`store.click_store_without_redis`: "
        f"uniqueness, flood and daily-cap lookups, then the row, in one transaction), {r['threads']} at a "
        f"time, {r['clicks']:,} clicks per table, on one offer that holds every row of the table (clicks "
        f"over {30} days, visitors from the same address pool). The big table was filled with "
        f"`INSERT ... SELECT generate_series` in {r['fill_seconds']} s. PostgreSQL.\n\n"
        "| table | clicks/s | p50 | p99 | vs baseline |\n|---|---|---|---|---|\n"
        f"| baseline: {r['small_rows']:,} rows | {small['clicks_per_s']:,} | {small['p50_ms']} ms | "
        f"{small['p99_ms']} ms | 1.00x |\n"
        f"| {r['big_rows']:,} rows | {big['clicks_per_s']:,} | {big['p50_ms']} ms | {big['p99_ms']} ms | "
        f"**{r['rate_ratio']}x** (p99 {r['p99_ratio']}x) |\n\n"
        f"- Target: >= {MIN_RATE_RATIO}x the small table's rate, <= {MAX_P99_RATIO}x its p99, no sequential "
        f"scan -> {verdict(met)}.\n"
        "- Every click on this offer takes its cap's lock (an advisory lock per offer, so the cap is exact "
        "on this path too): the clicks of one capped offer are written one at a time, on both tables.\n"
        f"- Answers on the big table: {', '.join(big['reasons'])} (its daily cap of 1,000 was reached).\n\n"
        f"Plans on the big table (EXPLAIN ANALYZE):\n\n{plans}"
    )
