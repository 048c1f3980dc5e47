"""The click path's database fallback (Redis down) on a big clicks table vs a small one.

    python -m bench fallback                              # through the runner (bench_fallback.py)
    python -c "import bench.fallback as b; print(b.run(rows=200_000, clicks=1_000))"  # a smoke run

``run()`` needs PostgreSQL (DATABASE_URL). Redis is stopped for it (REDIS_URL is emptied before
Django starts): every click takes ``store.click_store_without_redis``, what the edge's thread pool
runs when Redis is down, with the record ``handler.click_plan`` builds from a request. It works in
a scratch database (<name>_bench_fallback, dropped afterwards) and measures, in the same run:

1. the baseline: ``clicks`` clicks on an offer whose table holds ``small_rows`` clicks;
2. the same offer after ``INSERT ... SELECT generate_series`` grew the table to ``rows`` clicks
   (all on this offer, over 30 days, visitors drawn from the same address pool as the clicks
   measured, so the uniqueness and flood lookups find rows), then the same ``clicks`` again.

The offer has a daily cap (the cap count is part of the fallback's transaction). Clicks run
``threads`` at a time, as the edge's thread pool runs them. It also records the EXPLAIN
(ANALYZE) plans of the fallback's lookups on the big table: each must be an index scan with a
LIMIT, never a sequential scan.
"""

from __future__ import annotations

import os
import random
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

DAYS = 30
IPS = 50_000  # distinct visitor addresses, in 10.x.y.z
UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36"
)

CLICKS_SQL = """
INSERT INTO tracking_click (id, created_at, offer_id, publisher_id, ip, user_agent, country, device, os,
    sub1, sub2, sub3, sub4, sub5, source, referer, is_unique, reason, fraud_flags, path_skips, holdout_arm)
SELECT
  (lpad(to_hex((extract(epoch FROM t.ts) * 1000)::bigint), 12, '0') || '7' || lpad(to_hex(g %% 4096), 3, '0')
   || '8' || lpad(to_hex((g / 4096) %% 4096), 3, '0') || lpad(to_hex(g + %(first)s), 12, '0'))::uuid,
  t.ts, %(offer)s, %(publisher)s,
  '10.' || (t.v / 65536) || '.' || ((t.v / 256) %% 256) || '.' || (t.v %% 256),
  %(ua)s, 'US', 'desktop', 'windows', '', '', '', '', '', '', '', true,
  CASE WHEN random() < 0.05 THEN 'cap_reached' ELSE '' END, '[]'::jsonb, '', ''
FROM generate_series(1, %(n)s) AS g,
LATERAL (SELECT now() - random() * make_interval(days => %(days)s) AS ts,
                floor(random() * %(ips)s)::int AS v OFFSET 0) AS t
"""

# Fills this big drop the secondary indexes and build them again afterwards (_fill).
REBUILD_INDEXES_FROM = 1_000_000


def _setup_django() -> None:
    import django
    from django.apps import apps

    if not apps.ready:
        os.environ["REDIS_URL"] = ""  # Redis stopped: the fallback is the only way in
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
        django.setup()


def _offer() -> tuple[Any, int, int]:
    from affiliates.models import Advertiser, Cap, Goal, Offer, OfferAccess, Publisher

    adv = Advertiser.objects.create(
        name="Bench advertiser", postback_token_digest="f" * 64, postback_token_hint="b"
    )
    offer = Offer.objects.create(
        advertiser=adv, name="Bench offer", landing_url="https://example.com/?c={click_id}"
    )
    Goal.objects.create(
        offer=offer,
        code="sale",
        name="Sale",
        payout_type="cpa",
        payout=Decimal("2"),
        revenue=Decimal("3"),
        is_default=True,
    )
    Cap.objects.create(offer=offer, metric="clicks", period="day", limit=1_000)
    publisher = Publisher.objects.create(name="Bench publisher", email="p@bench.example", status="active")
    access = OfferAccess.objects.create(offer=offer, publisher=publisher, status="approved")
    return access.token, offer.id, publisher.id


def _fill(n: int, *, first: int, offer: int, publisher: int) -> float:
    from django.db import connection

    started = time.perf_counter()
    params = {
        "n": n,
        "first": first,
        "offer": offer,
        "publisher": publisher,
        "ua": UA,
        "days": DAYS,
        "ips": IPS,
    }
    with connection.cursor() as cursor:
        # A big fill goes into the table without its secondary indexes, which are then built
        # from their own definitions (pg_indexes): one sort per index instead of 100M random
        # inserts into five B-trees, several times faster. The primary key stays.
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'tracking_click' "
            "AND indexname <> 'tracking_click_pkey'"
        )
        indexes = cursor.fetchall() if n >= REBUILD_INDEXES_FROM else []
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute(CLICKS_SQL, params)
        if indexes:
            cursor.execute("SET maintenance_work_mem = '1GB'")
        for _, definition in indexes:
            cursor.execute(definition)
        cursor.execute("ANALYZE tracking_click")
    return time.perf_counter() - started


def _measure(token: str, clicks: int, threads: int) -> dict[str, Any]:
    from django.db import connection

    from tracking.clickpath import handler, links, store

    link = links.link_resolve(token)
    assert isinstance(link, links.Link)
    rng = random.Random(7)
    environs = []
    for _ in range(clicks):
        v = rng.randrange(IPS)
        ip = f"10.{v // 65536}.{(v // 256) % 256}.{v % 256}"
        environs.append({"REQUEST_METHOD": "GET", "QUERY_STRING": "sub1=bench", "REMOTE_ADDR": ip,
                         "HTTP_USER_AGENT": UA, "wsgi.url_scheme": "https"})  # fmt: skip

    def one(environ: dict[str, Any]) -> tuple[float, str]:
        plan = handler.click_plan(environ, link)
        started = time.perf_counter()
        reason = store.click_store_without_redis(
            plan.rec, caps=plan.caps, window_hours=link.unique_click_window_hours
        )
        return time.perf_counter() - started, reason

    every_thread = threading.Barrier(threads)

    def close(_: int) -> None:  # once in each thread: the scratch database is dropped afterwards
        every_thread.wait()
        connection.close()

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, environs[: max(threads * 10, 50)]))  # connections and caches warm
        started = time.perf_counter()
        results = list(pool.map(one, environs))
        wall = time.perf_counter() - started
        list(pool.map(close, range(threads)))
    latencies = sorted(seconds for seconds, _ in results)
    return {
        "clicks_per_s": round(clicks / wall, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
        "reasons": sorted({reason or "ok" for _, reason in results}),
    }


def _plans(token: str) -> dict[str, str]:
    """EXPLAIN ANALYZE of each lookup the fallback makes for one click, on the big table."""
    from datetime import UTC, datetime

    from django.conf import settings

    from tracking.clickpath import links, store

    link = links.link_resolve(token)
    assert isinstance(link, links.Link)
    rec = {"offer_id": link.offer_id, "publisher_id": link.publisher_id, "ip": "10.0.1.2", "user_agent": UA}
    now = datetime.now(UTC)
    window, last_hour = store.visitor_queries(rec, link.unique_click_window_hours, now)
    plans = {
        "uniqueness (exists)": window[:1].explain(analyze=True),
        "flood (counted up to the limit)": last_hour[: settings.CLICK_FLOOD_PER_HOUR].explain(analyze=True),
    }
    for qs, limit in store.cap_queries(rec, link.caps, now):
        plans[f"cap (counted up to its limit, {limit:,})"] = qs[:limit].explain(analyze=True)
    return plans


def run(
    *, rows: int = 5_000_000, clicks: int = 5_000, small_rows: int = 10_000, threads: int = 4
) -> dict[str, Any]:
    _setup_django()
    from django.conf import settings
    from django.db import connection

    if connection.vendor != "postgresql":
        raise SystemExit("bench.fallback needs PostgreSQL: set DATABASE_URL.")
    db = settings.DATABASES["default"]
    db.setdefault("TEST", {})["NAME"] = f"{db['NAME']}_bench_fallback"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        token, offer, publisher = _offer()
        _fill(small_rows, first=0, offer=offer, publisher=publisher)
        small = _measure(token, clicks, threads)
        fill_seconds = _fill(rows - small_rows - clicks, first=small_rows, offer=offer, publisher=publisher)
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM tracking_click")
            big_rows = cursor.fetchone()[0]
        big = _measure(token, clicks, threads)
        plans = _plans(token)
        summary = {
            "benchmark": "fallback",
            "small_rows": small_rows,
            "big_rows": big_rows,
            "clicks": clicks,
            "threads": threads,
            "fill_seconds": round(fill_seconds, 1),
            "small": small,
            "big": big,
            "rate_ratio": round(big["clicks_per_s"] / small["clicks_per_s"], 2),
            "p99_ratio": round(big["p99_ms"] / small["p99_ms"], 2),
            "plans": plans,
            "sequential_scans": [name for name, plan in plans.items() if "Seq Scan" in plan],
        }
        print(
            f"fallback: {small_rows:,} rows {small['clicks_per_s']}/s p99 {small['p99_ms']} ms; "
            f"{big_rows:,} rows {big['clicks_per_s']}/s p99 {big['p99_ms']} ms "
            f"(filled in {fill_seconds:.0f} s)"
        )
        return summary
    finally:
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    print(run(rows=int(os.environ.get("BENCH_FALLBACK_ROWS", "5000000"))))
