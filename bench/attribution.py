"""Attribution benchmark: the journey job's time and the attribution report's p95 over many
multi-touch journeys.

    python -m bench attribution
    python -c "import bench.attribution as b; b.run(clicks=20_000, conversions=1_000)"  # a smoke run

``run()`` needs PostgreSQL (DATABASE_URL). In a scratch database (<name>_bench_attribution,
dropped afterwards) it generates ``clicks`` clicks over 30 days set-based, by ``clicks / 4``
visitors who each click one offer through several publishers (so journeys have several
touches), and ``conversions`` conversions with commissions (bench/reports.py's SQL). It times
the journey job over the last day (what each hourly run does) and over all 30 days (the first
run), then the attribution comparison and participation reports (``runs`` times each) for
staff, an advertiser and a publisher. Target: report p95 < 100 ms at 10M clicks.
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.reports import COMMISSIONS_SQL, CONVERSIONS_SQL, DAYS, _entities, _p95, _setup_django, _time

TARGET_P95_MS = 100.0

# bench/reports.py's clicks, with a visitor per click: visitor v clicks offer v % offers through
# any publisher, from IP 10.x and one user agent, so its clicks on that offer form one journey.
CLICKS_SQL = """
INSERT INTO tracking_click (id, created_at, offer_id, publisher_id, ip, user_agent, country, device, os,
    sub1, sub2, sub3, sub4, sub5, source, referer, is_unique, reason, fraud_flags, path_skips, holdout_arm)
SELECT
  (lpad(to_hex((extract(epoch FROM t.ts) * 1000)::bigint), 12, '0') || '7' || lpad(to_hex(g %% 4096), 3, '0')
   || '8' || lpad(to_hex((g / 4096) %% 4096), 3, '0') || lpad(to_hex(g), 12, '0'))::uuid,
  t.ts,
  (%(offers)s::bigint[])[1 + t.v %% %(n_offers)s],
  (%(publishers)s::bigint[])[1 + t.pub],
  '10.' || (t.v / 65536) || '.' || (t.v %% 65536), 'bench-ua',
  'US', 'desktop', '', 'sub' || floor(power(t.r3, 4) * 20)::int, '', '', '', '', 'src' || (t.pub %% 5), '',
  true, '', '[]'::jsonb, '', ''
FROM generate_series(1, %(n)s) AS g,
LATERAL (SELECT %(start)s::timestamptz + (g::float8 / %(n)s) * make_interval(days => %(days)s) AS ts,
                floor(power(random(), 2) * %(n_publishers)s)::int AS pub,
                floor(random() * %(visitors)s)::int AS v,
                random() AS r3 OFFSET 0) AS t
"""


def generate(*, clicks: int, conversions: int, end: datetime) -> dict[str, Any]:
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
                "visitors": max(1, clicks // 4),
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


def _queries(data: dict[str, Any], end: datetime) -> list[tuple[str, Any]]:
    from affiliates.models import Offer
    from affiliates.roles import Actor, Role
    from payouts.reports.attribution.selectors import Filters, attribution_compare, participation

    last_day = (end - timedelta(seconds=1)).date()
    month = Filters(start=last_day - timedelta(days=DAYS - 1), end=last_day)
    week = Filters(start=last_day - timedelta(days=6), end=last_day)
    staff = Actor(role=Role.STAFF, user_id=0)
    publisher = Actor(role=Role.PUBLISHER, user_id=0, publisher_id=data["publishers"][0])
    advertiser_id = Offer.objects.filter(id=data["offers"][0]).values_list("advertiser_id", flat=True).get()
    advertiser = Actor(role=Role.ADVERTISER, user_id=0, advertiser_id=advertiser_id)
    compare, share = attribution_compare, participation
    return [
        ("advertiser, models by publisher, 30 days", lambda: compare(actor=advertiser, filters=month)),
        ("advertiser, models by sub id, 7 days", lambda: compare(actor=advertiser, filters=week, by="sub1")),
        ("staff, models by publisher, 30 days", lambda: compare(actor=staff, filters=month)),
        ("staff, participation, 30 days", lambda: share(actor=staff, filters=month)),
        (
            "top publisher, models by source, 30 days",
            lambda: compare(actor=publisher, filters=month, by="source"),
        ),
    ]


def run(*, clicks: int = 10_000_000, conversions: int = 300_000, runs: int = 20) -> dict[str, Any]:
    _setup_django()
    from django.conf import settings
    from django.db import connection

    from payouts.journeys.services import journeys_refresh
    from tracking.models import Journey, Touch

    if connection.vendor != "postgresql":
        raise SystemExit("bench.attribution needs PostgreSQL: set DATABASE_URL.")
    db = settings.DATABASES["default"]
    db.setdefault("TEST", {})["NAME"] = f"{db['NAME']}_bench_attribution"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        data = generate(clicks=clicks, conversions=conversions, end=end)
        started = time.perf_counter()
        journeys_refresh(as_of=end, days=DAYS)
        full_seconds = time.perf_counter() - started
        started = time.perf_counter()
        day = journeys_refresh(as_of=end, days=1)
        day_seconds = time.perf_counter() - started
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE tracking_touch")
        journeys, touches = Journey.objects.count(), Touch.objects.count()
        results = []
        for name, fn in _queries(data, end):
            rows = fn()
            samples = _time(fn, runs)
            results.append(
                {
                    "query": name,
                    "rows": len(rows),
                    "p50_ms": round(statistics.median(samples), 2),
                    "p95_ms": round(_p95(samples), 2),
                }
            )
        summary = {
            "benchmark": "attribution",
            "clicks": data["clicks"],
            "conversions": data["conversions"],
            "generate_seconds": data["seconds"],
            "journeys": journeys,
            "touches": touches,
            "job_full_seconds": round(full_seconds, 1),
            "job_day_seconds": round(day_seconds, 1),
            "job_day_journeys": day.journeys,
            "target_p95_ms": TARGET_P95_MS,
            "worst_p95_ms": max(r["p95_ms"] for r in results),
            "met": all(r["p95_ms"] < TARGET_P95_MS for r in results),
            "queries": results,
        }
        print(summary)
        return summary
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    run(
        clicks=int(os.environ.get("BENCH_ATTRIBUTION_CLICKS", "10000000")),
        conversions=int(os.environ.get("BENCH_ATTRIBUTION_CONVERSIONS", "300000")),
    )
