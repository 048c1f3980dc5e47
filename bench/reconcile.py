"""Benchmark: reconciliation throughput, commissions (with their ledger entries) per second.

Interface (for the ``bench`` runner, ``python -m bench reconcile``)::

    run(*, conversions: int = 300_000, concurrency: int = 2, sample: int = 2_000) -> dict

returns ``{"name", "metric", "unit", "value", "baseline", "ratio", "details"}``: ``value`` is the
rate at which a real Celery worker (``concurrency`` processes, Redis broker) turns a backlog of
``conversions`` into commissions + transactions + entries, timed from enqueueing the id ranges to
the last task's result; ``baseline`` is the rate of the obvious per-row ORM loop (price lookup,
``Commission.objects.create``, ``ledger_post``, deleting the conversion's queue row) measured on ``sample``
conversions in the same run; ``ratio`` is value / baseline. Needs PostgreSQL (DATABASE_URL) and
Redis (REDIS_URL); it works in a scratch database made by Django's test-database machinery and
drops it afterwards.

Alone: ``python -m bench.reconcile --conversions 20000``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OFFERS = 40
PUBLISHERS = 1_000


def run(*, conversions: int = 300_000, concurrency: int = 2, sample: int = 2_000) -> dict[str, Any]:
    _django_setup()
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    if connection.vendor != "postgresql":
        raise SystemExit("bench.reconcile needs DATABASE_URL (PostgreSQL) and REDIS_URL")
    test_settings = connection.settings_dict.setdefault("TEST", {})
    test_settings["NAME"] = f"bench_reconcile_{connection.settings_dict['NAME']}"
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        _seed_network()
        _seed_conversions(sample)
        baseline = _orm_loop()
        _seed_conversions(conversions)
        value, tasks = _celery_run(concurrency)
        from payouts.models import Commission, Entry, Transaction
        from payouts.reconcile import BATCH_SIZE

        made = Commission.objects.count() - sample
        return {
            "name": "reconcile",
            "metric": f"commissions with ledger entries per second, backlog of {conversions}",
            "unit": "commissions/s",
            "value": round(value),
            "baseline": round(baseline),
            "ratio": round(value / baseline, 1) if baseline else None,
            "details": {
                "vendor": connection.vendor,
                "conversions": conversions,
                "commissions_created": made,
                "transactions": Transaction.objects.count(),
                "entries": Entry.objects.count(),
                "worker_concurrency": concurrency,
                "batch_size": BATCH_SIZE,
                "tasks": tasks,
                "baseline_sample": sample,
                "baseline_method": "per-row ORM loop: price_pick + create + ledger_post + dequeue",
            },
        }
    finally:
        connection.close()
        teardown_databases(old_config, verbosity=0)


def _django_setup() -> None:
    import django
    from django.conf import settings

    if not settings.configured:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    django.setup()


def _seed_network() -> None:
    from affiliates.models import Advertiser, CustomPayout, Goal, Offer, Publisher

    advertiser = Advertiser.objects.create(
        name="Bench", postback_token_digest="b" * 64, postback_token_hint="b"
    )
    offers = Offer.objects.bulk_create(
        Offer(advertiser=advertiser, name=f"Offer {i}", landing_url="https://x.example/", hold_days=30)
        for i in range(OFFERS)
    )
    Goal.objects.bulk_create(
        goal
        for o in offers
        for goal in (
            Goal(
                offer=o,
                code="sale",
                name="Sale",
                payout_type="cps",
                payout=Decimal("8"),
                revenue=Decimal("12"),
                is_default=True,
            ),
            Goal(
                offer=o,
                code="lead",
                name="Lead",
                payout_type="cpl",
                payout=Decimal("1.5"),
                revenue=Decimal("2"),
            ),
        )
    )
    publishers = Publisher.objects.bulk_create(
        Publisher(name=f"Pub {i}", email=f"p{i}@example.com", status="active") for i in range(PUBLISHERS)
    )
    # Some publishers have custom payouts, a few per country, so pricing takes every branch.
    CustomPayout.objects.bulk_create(
        CustomPayout(
            offer=offers[i % OFFERS], publisher=p, payout=Decimal("9"), countries=["US"] if i % 2 else []
        )
        for i, p in enumerate(publishers[::10])
    )


def _seed_conversions(n: int) -> None:
    """n conversions, set-based, spread over offers, goals, publishers, countries. Tracking's
    trigger queues them for reconciliation, as it does every postback's."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH g AS (SELECT row_number() OVER (ORDER BY id) - 1 AS i, id, offer_id FROM affiliates_goal),
                 p AS (SELECT row_number() OVER (ORDER BY id) - 1 AS i, id FROM affiliates_publisher)
            INSERT INTO tracking_conversion (
                created_at, source, offer_id, publisher_id, goal_id, txn_id, coupon, status, reason, amount,
                currency, ip, user_agent, country, sub1, sub2, sub3, sub4, sub5, source_id, fraud_flags,
                held_for_review, trace)
            SELECT now() - (s %% 86400) * interval '1 second', 'postback', g.offer_id, p.id, g.id, '', '',
                   CASE WHEN s %% 13 = 0 THEN 'approved' ELSE 'pending' END, '',
                   ((s::bigint * 7919) %% 50000) / 100.0, '', '', '',
                   CASE WHEN s %% 3 = 0 THEN 'US' ELSE 'FR' END,
                   '', '', '', '', '', '', '[]'::jsonb, s %% 97 = 0, '{}'::jsonb
            FROM generate_series(1, %s) AS s
            JOIN g ON g.i = s %% (SELECT count(*) FROM affiliates_goal)
            JOIN p ON p.i = s %% (SELECT count(*) FROM affiliates_publisher)
            """,
            [n],
        )
        cursor.execute("ANALYZE tracking_conversion")


def _orm_loop() -> float:
    """The per-row way: what reconciliation would cost without set-based writes. One database
    transaction around the whole loop, so the baseline is not dominated by per-row commits."""
    from django.db import transaction

    from affiliates.core.money import money_round
    from affiliates.models import CustomPayout
    from affiliates.pricing import price_pick
    from payouts.ledger import Line, account_get, ledger_post
    from payouts.models import Account, Commission
    from tracking.models import Conversion, UnreconciledConversion

    k = Account.Kind
    start = time.perf_counter()
    queued = UnreconciledConversion.objects.values("conversion_id")
    rows = list(Conversion.objects.filter(id__in=queued).select_related("goal__offer"))
    with transaction.atomic():
        for conv in rows:
            goal, offer = conv.goal, conv.goal.offer
            # One query per row for the custom payouts, as a per-row loop would do.
            customs = list(CustomPayout.objects.filter(offer_id=offer.pk, publisher_id=conv.publisher_id))
            price = price_pick(goal=goal, customs=customs, country=conv.country)
            payout, revenue = price.amounts(conv.amount)
            cur = offer.currency
            c = Commission.objects.create(
                source_key=f"conversion:{conv.pk}",
                kind="conversion",
                conversion=conv,
                advertiser_id=offer.advertiser_id,
                offer=offer,
                publisher_id=conv.publisher_id,
                goal=goal,
                day=conv.created_at.date(),
                status=conv.status,
                currency=cur,
                revenue=money_round(revenue, cur),
                payout=money_round(payout, cur),
                sale_amount=conv.amount,
                price_source=price.source,
            )
            adv = account_get(kind=k.ADVERTISER_PENDING, currency=cur, advertiser_id=offer.advertiser_id)
            pub = account_get(kind=k.PUBLISHER_PENDING, currency=cur, publisher_id=conv.publisher_id)
            net = account_get(kind=k.NETWORK_PENDING_MARGIN, currency=cur)
            ledger_post(
                kind="commission",
                key=f"commission:{c.pk}:r1",
                commission=c,
                lines=[Line(adv, c.revenue), Line(pub, -c.payout), Line(net, c.payout - c.revenue)],
            )
            UnreconciledConversion.objects.filter(conversion_id=conv.pk).delete()
    return len(rows) / (time.perf_counter() - start)


def _celery_run(concurrency: int) -> tuple[float, int]:
    from django.db import connection

    from config.celery_app import app
    from payouts.tasks import conversion_ranges

    db = connection.settings_dict
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{host}/{db['NAME']}",
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "CELERY_TASK_ALWAYS_EAGER": "False",
    }
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    queue = f"bench-reconcile-{uuid.uuid4().hex[:8]}"
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            f"--concurrency={concurrency}",
            "-Q",
            queue,
            "--loglevel=WARNING",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stderr=subprocess.DEVNULL,
    )
    app.conf.task_always_eager = False
    try:
        app.send_task("payouts.approve_due_commissions", queue=queue).get(timeout=120)  # worker warmed up
        ranges = conversion_ranges(size=10_000)
        start = time.perf_counter()
        results = [app.send_task("payouts.reconcile_conversions", args=r, queue=queue) for r in ranges]
        created = sum(r.get(timeout=3600)["created"] for r in results)
        elapsed = time.perf_counter() - start
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    return created / elapsed, len(ranges)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversions", type=int, default=300_000)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--sample", type=int, default=2_000)
    args = parser.parse_args()
    print(
        json.dumps(
            run(conversions=args.conversions, concurrency=args.concurrency, sample=args.sample), indent=2
        )
    )


if __name__ == "__main__":
    main()
