"""Report latency benchmark: p95 of typical reports from rollups vs the same report from raw events.

    python -m bench reports                       # once bench/__main__.py dispatches to run()
    python -c "import bench.reports as b; b.run(clicks=200_000)"   # a smoke run

``run()`` needs PostgreSQL (DATABASE_URL). It creates a scratch database (<name>_bench_reports,
dropped afterwards), generates ``clicks`` clicks over 30 days and ``conversions`` conversions
with commissions using set-based SQL (INSERT ... SELECT generate_series), builds the rollups,
then times each report through ``report_rows`` (``runs`` times) and the same report with
``source="raw"`` (``baseline_runs`` times) in the same run. Target: p95 < 50 ms at 10M clicks.
Returns a dict; ``ratio`` is baseline median / rollup p95.
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

TARGET_P95_MS = 50.0
DAYS = 30


def _setup_django() -> None:
    import django
    from django.apps import apps

    if not apps.ready:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
        django.setup()


def _entities(
    n_advertisers: int = 5, n_offers: int = 40, n_publishers: int = 200
) -> tuple[list[int], list[int]]:
    from affiliates.models import Advertiser, Goal, Offer, Publisher

    advertisers = Advertiser.objects.bulk_create(
        Advertiser(name=f"Bench advertiser {i}", postback_token_digest=f"{i:064x}", postback_token_hint="b")
        for i in range(n_advertisers)
    )
    offers = Offer.objects.bulk_create(
        Offer(
            advertiser=advertisers[i % n_advertisers],
            name=f"Bench offer {i}",
            landing_url="https://example.com/?c={click_id}",
        )
        for i in range(n_offers)
    )
    Goal.objects.bulk_create(
        goal
        for offer in offers
        for goal in (
            Goal(
                offer=offer,
                code="sale",
                name="Sale",
                payout_type="cps",
                payout=Decimal("8"),
                revenue=Decimal("12"),
                is_default=True,
            ),
            Goal(
                offer=offer,
                code="lead",
                name="Lead",
                payout_type="cpl",
                payout=Decimal("1.5"),
                revenue=Decimal("2"),
            ),
        )
    )
    publishers = Publisher.objects.bulk_create(
        Publisher(name=f"Bench publisher {i}", email=f"p{i}@bench.example", status="active")
        for i in range(n_publishers)
    )
    return [o.id for o in offers], [p.id for p in publishers]


CLICKS_SQL = """
INSERT INTO tracking_click (id, created_at, offer_id, publisher_id, ip, user_agent, country, device, os,
    sub1, sub2, sub3, sub4, sub5, source, referer, is_unique, reason, fraud_flags, path_skips, holdout_arm)
SELECT
  (lpad(to_hex((extract(epoch FROM t.ts) * 1000)::bigint), 12, '0') || '7' || lpad(to_hex(g %% 4096), 3, '0')
   || '8' || lpad(to_hex((g / 4096) %% 4096), 3, '0') || lpad(to_hex(g), 12, '0'))::uuid,
  t.ts,
  (%(offers)s::bigint[])[1 + (t.pub * 7 + floor(t.r4 * 3)::int) %% %(n_offers)s],
  (%(publishers)s::bigint[])[1 + t.pub],
  '', '',
  (ARRAY['US','GB','DE','CA','FR','AU','IN','BR','ES','IT'])[1 + floor(power(t.r1, 3) * 10)::int],
  (ARRAY['mobile','desktop','tablet'])[1 + floor(power(t.r2, 2) * 3)::int],
  '',
  'sub' || floor(power(t.r3, 4) * 20)::int,
  'cr' || floor(random() * 50)::int, '', '', '', '', '',
  random() < 0.8,
  CASE WHEN random() < 0.02 THEN 'geo_mismatch' ELSE '' END,
  CASE WHEN random() < 0.02 THEN '["datacenter_ip"]'::jsonb ELSE '[]'::jsonb END, '', ''
FROM generate_series(1, %(n)s) AS g,
LATERAL (SELECT %(start)s::timestamptz + (g::float8 / %(n)s) * make_interval(days => %(days)s) AS ts,
                floor(power(random(), 2) * %(n_publishers)s)::int AS pub,
                random() AS r1, random() AS r2, random() AS r3, random() AS r4 OFFSET 0) AS t
"""

CONVERSIONS_SQL = """
INSERT INTO tracking_conversion (created_at, source, offer_id, publisher_id, goal_id, click_id, click_time,
    txn_id, coupon, status, reason, amount, currency, ip, user_agent, country, sub1, sub2, sub3, sub4, sub5,
    source_id, fraud_flags, held_for_review, trace)
SELECT c.created_at + random() * interval '2 hours', 'postback', c.offer_id, c.publisher_id, g.id, c.id,
  c.created_at, c.id::text, '', s.status, '',
  CASE WHEN g.payout_type = 'cps' THEN round((20 + random() * 200)::numeric, 2) END,
  'USD', '', '', c.country, c.sub1, c.sub2, '', '', '', '',
  CASE WHEN random() < 0.03 THEN '["velocity"]'::jsonb ELSE '[]'::jsonb END, false, '{}'::jsonb
FROM tracking_click c
CROSS JOIN LATERAL (SELECT random() AS r OFFSET 0) AS x
JOIN affiliates_goal g ON g.offer_id = c.offer_id AND g.is_default = (x.r >= 0.2)
CROSS JOIN LATERAL (SELECT CASE WHEN x.r < 0.7 THEN 'approved' WHEN x.r < 0.9 THEN 'pending'
                                WHEN x.r < 0.97 THEN 'rejected' ELSE 'reversed' END AS status) AS s
WHERE ('x' || right(c.id::text, 8))::bit(32)::int %% %(every)s = 0 AND c.reason = ''
"""

COMMISSIONS_SQL = """
INSERT INTO payouts_commission (source_key, kind, conversion_id, advertiser_id, offer_id, publisher_id,
    goal_id, day, quantity, status, currency, revenue, payout, sale_amount, original_currency, price_source,
    held_for_review, status_reason, revision, created_at, updated_at)
SELECT 'conversion:' || v.id, 'conversion', v.id, o.advertiser_id, v.offer_id, v.publisher_id, v.goal_id,
  (v.created_at AT TIME ZONE 'UTC')::date, 1, v.status, o.currency,
  CASE WHEN g.payout_type = 'cps' THEN round(v.amount * g.revenue / 100, 2) ELSE g.revenue END,
  CASE WHEN g.payout_type = 'cps' THEN round(v.amount * g.payout / 100, 2) ELSE g.payout END,
  v.amount, '', 'goal:' || g.id, false, '', 1, v.created_at, v.created_at
FROM tracking_conversion v
JOIN affiliates_goal g ON g.id = v.goal_id
JOIN affiliates_offer o ON o.id = v.offer_id
WHERE v.status <> 'rejected'
"""


def generate(*, clicks: int, conversions: int, end: datetime) -> dict[str, Any]:
    """Bench data, set-based. Triggers are off for the load (session_replication_role): the
    rollups are built from scratch right after, so no dirty marks are needed, and the
    conversions stay out of the reconciliation queue (their commissions are loaded with them)."""
    from django.db import connection

    offers, publishers = _entities()
    start = end - timedelta(days=DAYS)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(
            CLICKS_SQL,
            {
                "offers": offers,
                "publishers": publishers,
                "n_offers": len(offers),
                "n_publishers": len(publishers),
                "n": clicks,
                "start": start,
                "days": DAYS,
            },
        )
        cursor.execute(CONVERSIONS_SQL, {"every": max(1, round(clicks * 0.98 / conversions))})
        cursor.execute(COMMISSIONS_SQL)
        cursor.execute("SET session_replication_role = DEFAULT")
        cursor.execute("ANALYZE")
        cursor.execute("SELECT count(*) FROM tracking_conversion")
        n_conversions = cursor.fetchone()[0]
    return {
        "clicks": clicks,
        "conversions": n_conversions,
        "seconds": round(time.perf_counter() - started, 1),
        "start": start,
        "publishers": publishers,
        "offers": offers,
    }


def _time(fn: Any, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]


def _queries(data: dict[str, Any], end: datetime) -> list[tuple[str, Any, dict[str, Any]]]:
    from affiliates.models import Offer
    from affiliates.roles import Actor, Role

    last_day = (end - timedelta(seconds=1)).date()
    month = {"start": last_day - timedelta(days=DAYS - 1), "end": last_day}
    week = {"start": last_day - timedelta(days=6), "end": last_day}
    staff = Actor(role=Role.STAFF, user_id=0)
    mid_publisher = Actor(
        role=Role.PUBLISHER, user_id=0, publisher_id=data["publishers"][len(data["publishers"]) // 4]
    )
    top_publisher = Actor(role=Role.PUBLISHER, user_id=0, publisher_id=data["publishers"][0])
    advertiser_id = Offer.objects.filter(id=data["offers"][0]).values_list("advertiser_id", flat=True).get()
    advertiser = Actor(role=Role.ADVERTISER, user_id=0, advertiser_id=advertiser_id)
    return [
        (
            "publisher dashboard, 30 days by day, New York",
            mid_publisher,
            {**month, "tz": "America/New_York", "group_by": ["day"]},
        ),
        ("top publisher, 30 days by day, UTC", top_publisher, {**month, "group_by": ["day"]}),
        ("publisher by sub1, 7 days, UTC", mid_publisher, {**week, "group_by": ["sub1"]}),
        (
            "advertiser by offer, 30 days, Berlin",
            advertiser,
            {**month, "tz": "Europe/Berlin", "group_by": ["offer"]},
        ),
        ("staff by publisher, 7 days, UTC", staff, {**week, "group_by": ["publisher"]}),
        ("staff by day, 30 days, UTC", staff, {**month, "group_by": ["day"]}),
        ("staff by country and device, 7 days, UTC", staff, {**week, "group_by": ["country", "device"]}),
    ]


def run(
    *, clicks: int = 10_000_000, conversions: int = 300_000, runs: int = 20, baseline_runs: int = 3
) -> dict[str, Any]:
    _setup_django()
    from django.conf import settings
    from django.db import connection

    from payouts.reports.selectors import report_rows
    from payouts.reports.services import rollup_rebuild

    if connection.vendor != "postgresql":
        raise SystemExit("bench.reports needs PostgreSQL: set DATABASE_URL.")
    db = settings.DATABASES["default"]
    db.setdefault("TEST", {})["NAME"] = f"{db['NAME']}_bench_reports"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        data = generate(clicks=clicks, conversions=conversions, end=end)
        started = time.perf_counter()
        rollup_rebuild(start=data["start"], end=end)
        build_seconds = time.perf_counter() - started
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE tracking_hourlystat")
            cursor.execute("ANALYZE tracking_dailystat")
            cursor.execute(
                "SELECT (SELECT count(*) FROM tracking_hourlystat), (SELECT count(*) FROM tracking_dailystat)"
            )
            hourly_rows, daily_rows = cursor.fetchone()
        results = []
        for name, actor, kwargs in _queries(data, end):
            report = report_rows(actor=actor, **kwargs)  # warm-up, and the row count
            fast = _time(lambda a=actor, k=kwargs: report_rows(actor=a, **k), runs)
            slow = _time(lambda a=actor, k=kwargs: report_rows(actor=a, source="raw", **k), baseline_runs)
            results.append(
                {
                    "query": name,
                    "source": report.source,
                    "rows": len(report.rows),
                    "p50_ms": round(statistics.median(fast), 2),
                    "p95_ms": round(_p95(fast), 2),
                    "baseline_median_ms": round(statistics.median(slow), 1),
                    "ratio": round(statistics.median(slow) / _p95(fast), 1),
                }
            )
        summary = {
            "benchmark": "reports",
            "clicks": data["clicks"],
            "conversions": data["conversions"],
            "generate_seconds": data["seconds"],
            "rollup_build_seconds": round(build_seconds, 1),
            "hourly_rows": hourly_rows,
            "daily_rows": daily_rows,
            "target_p95_ms": TARGET_P95_MS,
            "worst_p95_ms": max(r["p95_ms"] for r in results),
            "met": all(r["p95_ms"] < TARGET_P95_MS for r in results),
            "queries": results,
        }
        _print(summary)
        return summary
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def _print(summary: dict[str, Any]) -> None:
    print(
        f"reports: {summary['clicks']:,} clicks, {summary['conversions']:,} conversions "
        f"(generated in {summary['generate_seconds']} s; "
        f"rollups built in {summary['rollup_build_seconds']} s: "
        f"{summary['hourly_rows']:,} hourly, {summary['daily_rows']:,} daily rows)"
    )
    print(f"{'query':50} {'source':7} {'p50 ms':>8} {'p95 ms':>8} {'raw ms':>9} {'ratio':>7}")
    for r in summary["queries"]:
        print(
            f"{r['query']:50} {r['source']:7} {r['p50_ms']:8} {r['p95_ms']:8} "
            f"{r['baseline_median_ms']:9} {r['ratio']:6}x"
        )
    print(
        f"target p95 < {summary['target_p95_ms']} ms: {'met' if summary['met'] else 'NOT met'} "
        f"(worst {summary['worst_p95_ms']} ms)"
    )


if __name__ == "__main__":
    run(
        clicks=int(os.environ.get("BENCH_REPORTS_CLICKS", "10000000")),
        conversions=int(os.environ.get("BENCH_REPORTS_CONVERSIONS", "300000")),
    )
