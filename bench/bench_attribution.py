"""Adapter: bench/attribution.py (the journey job's time and the attribution report's p95).

Sizes: BENCH_ATTRIBUTION_CLICKS (10,000,000; 200,000 with BENCH_SMOKE=1),
BENCH_ATTRIBUTION_CONVERSIONS (300,000; 10,000 smoke), BENCH_ATTRIBUTION_RUNS (20).
"""

from __future__ import annotations

from bench.harness import Context, env_int, run_module, verdict

TITLE = "Attribution: journey job and multi-touch report p95 (issue 15)"


def run(ctx: Context) -> str:
    kwargs = {
        "clicks": env_int("BENCH_ATTRIBUTION_CLICKS", 10_000_000, 200_000),
        "conversions": env_int("BENCH_ATTRIBUTION_CONVERSIONS", 300_000, 10_000),
        "runs": env_int("BENCH_ATTRIBUTION_RUNS", 20, 10),
    }
    r = run_module(ctx, "attribution", kwargs)
    rows = "\n".join(f"| {q['query']} | {q['rows']} | {q['p50_ms']} | {q['p95_ms']} |" for q in r["queries"])
    return (
        f"{r['clicks']:,} clicks by {r['clicks'] // 4:,} visitors and {r['conversions']:,} conversions over "
        f"30 days (generated in {r['generate_seconds']} s), PostgreSQL. The journey job built "
        f"{r['journeys']:,} journeys ({r['touches']:,} touches) in {r['job_full_seconds']} s for 30 days; "
        f"an hourly run over the last day ({r['job_day_journeys']:,} journeys) took "
        f"{r['job_day_seconds']} s.\n\n"
        "| report | rows | p50 ms | p95 ms |\n|---|---|---|---|\n" + rows + "\n\n"
        f"- Target: p95 < {r['target_p95_ms']:.0f} ms for every report: worst {r['worst_p95_ms']} ms -> "
        f"{verdict(r['met'])}.\n"
    )
