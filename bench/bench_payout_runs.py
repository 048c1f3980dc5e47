"""Adapter: bench/payout_runs.py (building one payout run for N publishers).

Sizes: BENCH_PAYOUT_PUBLISHERS (10,000; 1,000 with BENCH_SMOKE=1), BENCH_PAYOUT_SAMPLE (the
per-publisher loop baseline, 200; 100 smoke).
"""

from __future__ import annotations

from bench.harness import Context, env_int, run_module, verdict

TITLE = "Payout run build time (issue 4)"


def run(ctx: Context) -> str:
    kwargs = {
        "publishers": env_int("BENCH_PAYOUT_PUBLISHERS", 10_000, 1_000),
        "sample": env_int("BENCH_PAYOUT_SAMPLE", 200, 100),
    }
    r = run_module(ctx, "payout_runs", kwargs)
    d = r["details"]
    return (
        f"{d['publishers']:,} publishers with {d['ledger_entries']:,} approved ledger entries, "
        "PostgreSQL.\n\n"
        "| run | seconds | vs baseline |\n|---|---|---|\n"
        f"| baseline: per-publisher loop, timed on {d['baseline_sample']} publishers and scaled | "
        f"{r['baseline']} | 1.00x |\n"
        f"| payout_run_build (set-based) | {r['value']} | **{r['ratio']}x faster** |\n\n"
        f"- {d['payouts']:,} payouts, {d['carried_over']:,} carried over; "
        f"{d['publishers_per_second']:,} publishers/s.\n"
        '- Target: issue 4 sets no number ("payout run time for 10,000 publishers"); checked here: '
        f"faster than the per-publisher loop -> {verdict(bool(r['ratio']) and r['ratio'] > 1)}.\n"
    )
