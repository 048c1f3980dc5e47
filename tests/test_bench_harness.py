"""The benchmark harness reads wrk's latency percentiles, whatever unit wrk picks."""

from __future__ import annotations

import pytest

from bench.harness import env_int, wrk_percentile

WRK_OUTPUT = """Running 3s test @ http://127.0.0.1:40000/c/abc
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    12.43ms   20.11ms   1.02s    75.50%
    Req/Sec     2.95k   310.22     3.50k    69.00%
  Latency Distribution
     50%  812.00us
     75%    9.12ms
     90%   31.40ms
     99%    1.20s
  17650 requests in 3.00s, 2.10MB read
Requests/sec:   5883.12
Transfer/sec:    716.53KB
"""


def test_it_reads_the_latency_distribution_not_the_stdev_column() -> None:
    # "75.50%" in the Thread Stats table once matched the 50% pattern and gave nan.
    assert wrk_percentile(WRK_OUTPUT, 50) == pytest.approx(0.812)
    assert wrk_percentile(WRK_OUTPUT, 75) == pytest.approx(9.12)
    assert wrk_percentile(WRK_OUTPUT, 99) == pytest.approx(1200.0)


def test_a_missing_percentile_is_an_error_not_nan() -> None:
    with pytest.raises(ValueError, match="no 95% line"):
        wrk_percentile(WRK_OUTPUT, 95)


def test_sizes_come_from_the_environment_then_the_smoke_switch(monkeypatch) -> None:
    monkeypatch.delenv("BENCH_X", raising=False)
    monkeypatch.delenv("BENCH_SMOKE", raising=False)
    assert env_int("BENCH_X", 300_000, 20_000) == 300_000
    monkeypatch.setenv("BENCH_SMOKE", "1")
    assert env_int("BENCH_X", 300_000, 20_000) == 20_000
    monkeypatch.setenv("BENCH_X", "5000")
    assert env_int("BENCH_X", 300_000, 20_000) == 5000


def test_a_partial_run_replaces_its_own_section_and_keeps_the_others() -> None:
    from bench.__main__ import sections_merge

    old = "# Benchmarks\n\nintro\n\n## Clicks\n\nold clicks\n\n## Reconcile\n\nold reconcile\n"
    merged = sections_merge(
        old, {"Reconcile": "## Reconcile\n\nnew reconcile\n", "Reports": "## Reports\n\nr\n"}
    )
    assert merged == ["## Clicks\n\nold clicks\n", "## Reconcile\n\nnew reconcile\n", "## Reports\n\nr\n"]


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize("rebuild_from", [1_000_000, 1])
def test_the_fallback_bench_fills_the_clicks_table_the_model_has_today(
    shoes, pixelpush, monkeypatch, rebuild_from
) -> None:
    # bench/fallback.py fills its big table with raw SQL; a column added to Click without a
    # database default once broke a 100M-row run only after an hour. This fills a few rows the
    # same way, and once as a big fill does (indexes dropped, filled, built again).
    from django.db import connection

    import bench.fallback
    from tracking.models import Click

    def indexes() -> list[tuple[str, str]]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'tracking_click'")
            return sorted(cursor.fetchall())

    before = indexes()
    monkeypatch.setattr(bench.fallback, "REBUILD_INDEXES_FROM", rebuild_from)

    bench.fallback._fill(7, first=0, offer=shoes.id, publisher=pixelpush.id)

    assert Click.objects.filter(offer=shoes, publisher=pixelpush).count() == 7
    assert indexes() == before


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize("bench_name", ["reports", "attribution"])
def test_the_report_benches_fill_the_tables_the_models_have_today(bench_name: str) -> None:
    # The report and attribution benches fill clicks, conversions and commissions with raw SQL
    # too: a NOT NULL column added without a database default (holdout_arm, path_skips) broke
    # `make bench` there unseen. A few rows the same way, and the rows are there.
    import importlib
    from datetime import UTC, datetime

    from django.db import connection

    from payouts.models import Commission
    from tracking.models import Click, Conversion

    bench = importlib.import_module(f"bench.{bench_name}")
    data = bench.generate(clicks=400, conversions=20, end=datetime(2026, 12, 1, tzinfo=UTC))
    assert Click.objects.filter(offer_id__in=data["offers"]).count() == 400
    assert data["conversions"] == Conversion.objects.count() > 0
    assert Commission.objects.filter(conversion__isnull=False).count() > 0
    with connection.cursor() as cursor:
        cursor.execute("SHOW session_replication_role")
        assert cursor.fetchone()[0] == "origin"  # triggers are on again for the tests after it
