"""Adapter: bench/reconcile.py (a real Celery worker reconciling a conversion backlog).

Sizes: BENCH_RECONCILE_CONVERSIONS (300,000; 20,000 with BENCH_SMOKE=1), BENCH_RECONCILE_SAMPLE
(per-row ORM baseline, 2,000; 1,000 smoke), BENCH_RECONCILE_CONCURRENCY (worker processes, 2).
"""

from __future__ import annotations

from bench.harness import Context, env_int, run_module, verdict

TITLE = "Reconciliation: commissions with ledger entries per second (issue 4)"
TARGET_PER_S = 17_000  # issue 10's requirement


def run(ctx: Context) -> str:
    kwargs = {
        "conversions": env_int("BENCH_RECONCILE_CONVERSIONS", 300_000, 20_000),
        "sample": env_int("BENCH_RECONCILE_SAMPLE", 2_000, 1_000),
        "concurrency": env_int("BENCH_RECONCILE_CONCURRENCY", 2, 2),
    }
    r = run_module(ctx, "reconcile", kwargs)
    d = r["details"]
    return (
        f"Backlog of {d['conversions']:,} conversions, a real Celery worker (concurrency "
        f"{d['worker_concurrency']}, Redis broker, {d['tasks']} tasks), PostgreSQL.\n\n"
        "| run | commissions/s | vs baseline |\n|---|---|---|\n"
        f"| baseline: {d['baseline_method']} ({d['baseline_sample']:,} conversions) | "
        f"{r['baseline']:,} | 1.00x |\n"
        f"| reconcile_conversions on the worker | {r['value']:,} | **{r['ratio']}x** |\n\n"
        f"- Made {d['commissions_created']:,} commissions, {d['transactions']:,} ledger transactions, "
        f"{d['entries']:,} entries (totals include the baseline sample).\n"
        f"- Target (issue 10): >= {TARGET_PER_S:,} commissions/s: {r['value']:,}/s -> "
        f"{verdict(r['value'] >= TARGET_PER_S)}.\n"
    )
