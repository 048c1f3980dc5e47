"""Adapter: bench/reports.py (report p95 from rollups vs the same report from raw tables).

Sizes: BENCH_REPORTS_CLICKS (10,000,000; 200,000 with BENCH_SMOKE=1), BENCH_REPORTS_CONVERSIONS
(300,000; 20,000 smoke), BENCH_REPORTS_RUNS (timed runs per report, 20).
"""

from __future__ import annotations

from bench.harness import Context, env_int, run_module, verdict

TITLE = "Report latency: p95 from rollups (issue 5)"


def run(ctx: Context) -> str:
    kwargs = {
        "clicks": env_int("BENCH_REPORTS_CLICKS", 10_000_000, 200_000),
        "conversions": env_int("BENCH_REPORTS_CONVERSIONS", 300_000, 20_000),
        "runs": env_int("BENCH_REPORTS_RUNS", 20, 10),
        "baseline_runs": env_int("BENCH_REPORTS_BASELINE_RUNS", 3, 2),
    }
    r = run_module(ctx, "reports", kwargs)
    rows = "\n".join(
        f"| {q['query']} | {q['source']} | {q['rows']} | {q['p50_ms']} | {q['p95_ms']} | "
        f"{q['baseline_median_ms']} | **{q['ratio']}x** |"
        for q in r["queries"]
    )
    return (
        f"{r['clicks']:,} clicks and {r['conversions']:,} conversions over 30 days (generated set-based "
        f"in {r['generate_seconds']} s), rollups built in {r['rollup_build_seconds']} s "
        f"({r['hourly_rows']:,} hourly, {r['daily_rows']:,} daily rows), PostgreSQL. Baseline: the same "
        'report from the raw tables (`source="raw"`), in the same run.\n\n'
        "| report | source | rows | p50 ms | p95 ms | raw median ms | raw / p95 |\n"
        "|---|---|---|---|---|---|---|\n" + rows + "\n\n"
        f"- Target: p95 < {r['target_p95_ms']:.0f} ms for every report: worst {r['worst_p95_ms']} ms -> "
        f"{verdict(r['met'])}.\n"
    )
