"""Adapter: bench/portals.py (every portal page's server time at p95, per role, demo data).

Sizes: BENCH_PORTALS_DAYS (days of demo activity, 30; 3 with BENCH_SMOKE=1), BENCH_PORTALS_RUNS
(timed requests per page, 20; 5 smoke).
"""

from __future__ import annotations

from bench.harness import Context, env_int, run_module, verdict

TITLE = "Portal pages: server time at p95 on the demo data (issue 16)"


def run(ctx: Context) -> str:
    kwargs = {
        "days": env_int("BENCH_PORTALS_DAYS", 30, 3),
        "runs": env_int("BENCH_PORTALS_RUNS", 20, 5),
    }
    r = run_module(ctx, "portals", kwargs)
    pages = r["pages"]
    over = r["over"]
    slowest = "\n".join(
        f"| {p['role']} | `{p['url']}` | {p['p50_ms']} | {p['p95_ms']} |" for p in (over or pages[:10])
    )
    heading = "Pages over the target" if over else "The ten slowest pages (none over the target)"
    return (
        f"seed_demo with {r['days']} days of activity (seeded in {r['seed_seconds']} s), PostgreSQL; "
        f"{len(pages)} pages (every page each role reaches: tests/portal_pages.py), each requested "
        f"{r['runs']} times in-process through Django's whole stack, signed in as the demo's users.\n\n"
        f"{heading}:\n\n| role | page | p50 ms | p95 ms |\n|---|---|---|---|\n{slowest}\n\n"
        f"- Median page p95 {r['median_p95_ms']} ms.\n"
        f"- Target: p95 < {r['target_p95_ms']:.0f} ms for every page: worst {r['worst_p95_ms']} ms, "
        f"{len(over)} over -> {verdict(r['met'])}.\n"
    )
