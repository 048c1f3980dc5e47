"""Benchmark: time to build one payout run for N publishers with approved balances.

Interface (for the ``bench`` runner, ``python -m bench payout_runs``)::

    run(*, publishers: int = 10_000, entries_per_publisher: int = 5, sample: int = 200) -> dict

returns ``{"name", "metric", "unit", "value", "baseline", "ratio", "details"}`` where ``value``
is the set-based build's wall time in seconds, ``baseline`` the time a naive per-publisher loop
(one balance query, one payouts query, one publisher read and one INSERT each) would take for
the same N, measured on ``sample`` publishers in the same run and scaled, and ``ratio`` is
baseline / value (how many times faster the set-based build is). Meant for PostgreSQL
(DATABASE_URL); it builds in a scratch database made by Django's test-database machinery,
never in the configured one, and drops it afterwards.

Alone: ``python -m bench.payout_runs --publishers 1000``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

PERIOD = date(2024, 1, 1)


def run(*, publishers: int = 10_000, entries_per_publisher: int = 5, sample: int = 200) -> dict[str, Any]:
    _django_setup()
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    if connection.vendor == "postgresql":
        # Its own scratch name, so a test run's test_<db> is never dropped under it.
        test_settings = connection.settings_dict.setdefault("TEST", {})
        test_settings["NAME"] = f"bench_payout_runs_{connection.settings_dict['NAME']}"
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        seeded = _seed(publishers, entries_per_publisher)
        naive_seconds, naive_count = _naive_loop(sample)
        build_seconds, result = _set_based_build()
        baseline = naive_seconds / naive_count * publishers if naive_count else 0.0
        return {
            "name": "payout_runs",
            "metric": f"payout run build, {publishers} publishers",
            "unit": "s",
            "value": round(build_seconds, 3),
            "baseline": round(baseline, 3),
            "ratio": round(baseline / build_seconds, 1) if build_seconds else None,
            "details": {
                "vendor": connection.vendor,
                "publishers": publishers,
                "ledger_entries": seeded,
                "payouts": result.payouts,
                "carried_over": result.carried_over,
                "publishers_per_second": round(publishers / build_seconds) if build_seconds else None,
                "baseline_sample": naive_count,
                "baseline_sample_seconds": round(naive_seconds, 3),
            },
        }
    finally:
        teardown_databases(old_config, verbosity=0)


def _django_setup() -> None:
    import django
    from django.conf import settings

    if not settings.configured:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    django.setup()


def _seed(publishers: int, per_publisher: int) -> int:
    """Publishers, their payable accounts and approval-like transactions, all in the period."""
    from affiliates.models import Advertiser, Publisher
    from payouts.models import Account, Entry, Transaction

    rng = random.Random(42)
    at = datetime(2024, 1, 15, 12, tzinfo=UTC)
    advertiser = Advertiser.objects.create(
        name="Bench advertiser", postback_token_digest="b" * 64, postback_token_hint="bench"
    )
    receivable = Account.objects.create(
        kind=Account.Kind.ADVERTISER_RECEIVABLE, advertiser=advertiser, currency="USD"
    )
    pubs = Publisher.objects.bulk_create(
        Publisher(name=f"Bench publisher {n}", email=f"p{n}@bench.example", status=Publisher.Status.ACTIVE)
        for n in range(publishers)
    )
    accounts = Account.objects.bulk_create(
        Account(kind=Account.Kind.PUBLISHER_PAYABLE, publisher=p, currency="USD") for p in pubs
    )
    total = 0
    for start in range(0, len(accounts), 2000):
        batch = accounts[start : start + 2000]
        amounts = [Decimal(rng.randint(100, 4000)) / 100 for _ in range(len(batch) * per_publisher)]
        txns = Transaction.objects.bulk_create(
            Transaction(kind=Transaction.Kind.APPROVAL, key=f"bench:{start}:{i}", created_at=at)
            for i in range(len(amounts))
        )
        entries = []
        for i, (txn, amount) in enumerate(zip(txns, amounts, strict=True)):
            payable = batch[i // per_publisher]
            entries.append(
                Entry(transaction=txn, account=payable, amount=-amount, currency="USD", created_at=at)
            )
            entries.append(
                Entry(transaction=txn, account=receivable, amount=amount, currency="USD", created_at=at)
            )
        Entry.objects.bulk_create(entries, batch_size=5000)
        total += len(entries)
    return total


def _naive_loop(sample: int) -> tuple[float, int]:
    """The obvious per-publisher loop, on a sample; its payouts are removed afterwards."""
    from django.db.models import Sum

    from affiliates.models import Publisher
    from payouts.models import Account, Entry, Payout, PayoutRun, Transaction
    from payouts.periods import period_end

    run = PayoutRun.objects.create(period=PERIOD, status=PayoutRun.Status.BUILDING)
    end = period_end(PERIOD)
    ids = list(Publisher.objects.order_by("pk").values_list("pk", flat=True)[:sample])
    started = time.perf_counter()
    for publisher_id in ids:
        publisher = Publisher.objects.get(pk=publisher_id)
        owed = (
            Entry.objects.filter(
                account__kind=Account.Kind.PUBLISHER_PAYABLE,
                account__publisher_id=publisher_id,
                created_at__lt=end,
            )
            .exclude(transaction__kind__in=[Transaction.Kind.PAYOUT, Transaction.Kind.PAYOUT_FAILED])
            .aggregate(total=Sum("amount"))["total"]
        )
        covered = (
            Payout.objects.filter(publisher_id=publisher_id)
            .exclude(status=Payout.Status.FAILED)
            .exclude(period=PERIOD)
            .aggregate(total=Sum("amount"))["total"]
        )
        amount = -(owed or 0) - (covered or 0)
        if amount > 0 and amount >= publisher.minimum_payout:
            Payout.objects.create(
                run=run, publisher=publisher, period=PERIOD, currency="USD", amount=amount,
                method=publisher.payout_method, details=publisher.payout_details,
            )  # fmt: skip
    elapsed = time.perf_counter() - started
    Payout.objects.filter(run=run).delete()
    run.delete()
    return elapsed, len(ids)


def _set_based_build() -> tuple[float, Any]:
    from payouts.payout_build import payout_run_build, payout_run_start

    run, _ = payout_run_start(period=PERIOD)
    started = time.perf_counter()
    result = payout_run_build(run_id=run.pk)
    return time.perf_counter() - started, result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--publishers", type=int, default=10_000)
    parser.add_argument("--sample", type=int, default=200)
    args = parser.parse_args()
    print(json.dumps(run(publishers=args.publishers, sample=args.sample), indent=2))
