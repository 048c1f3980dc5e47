"""Benchmarks, run by ``make bench`` (``python -m bench``), written to BENCHMARKS.md.

Adding one: create ``bench/bench_<name>.py`` with

    TITLE = "What it measures"
    def run(ctx: bench.harness.Context) -> str:  # returns a Markdown section body

``python -m bench`` imports every ``bench_*`` module in this package, runs each (or only those
named on the command line: ``python -m bench clicks``), and writes the sections, in name
order, to BENCHMARKS.md. Results are ratios against a baseline measured in the same run on
the same machine; absolute numbers depend on the machine. ``BENCH_SECONDS`` sets the length
of each load run (default 10; use 2-3 for a smoke run). ``bench.harness`` has the shared
parts: a production-like environment, app-server processes, wrk, peak RSS.

Sizes default to the issues' full sizes (300,000 conversions to reconcile, 10,000 publishers in
a payout run, 10M clicks and 300,000 conversions behind the reports); ``BENCH_SMOKE=1`` shrinks
them all for a quick check, and each has its own variable (see the ``bench_*`` adapters). The
modules with their own ``run(**kw) -> dict`` (reconcile, postbacks, payout_runs, reports) run in
a child process each, since each sets Django up with its own settings and scratch database.
"""
