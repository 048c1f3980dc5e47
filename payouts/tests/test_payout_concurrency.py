"""Two run_payouts processes for one period, at once, on PostgreSQL: one run, one payout each."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection

from affiliates.models import FxRate
from affiliates.tests.factories import PublisherFactory
from payouts.models import Payout, PayoutRun
from payouts.tests.factories_payouts import approve_balance, mid

JAN = date(2024, 1, 1)
ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _run_payouts_process(period: str) -> subprocess.Popen[str]:
    env = {**os.environ, "DATABASE_URL": _database_url(), "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    return subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "run_payouts",
            "--period",
            period,
            "--chunk-size",
            "7",
            "--no-progress",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_run_payouts_make_one_run_with_one_payout_per_publisher() -> None:
    FxRate.objects.create(base="USD", quote="EUR", rate=Decimal("0.9"), valid_from=mid(JAN))
    publishers = PublisherFactory.create_batch(60)
    for n, publisher in enumerate(publishers):
        approve_balance(publisher, Decimal("50") + n, at=mid(JAN))
        if n % 3 == 0:  # a second currency for some: its own (publisher, period, currency) payout
            approve_balance(publisher, "500", at=mid(JAN), currency="EUR")

    first, second = _run_payouts_process("2024-01"), _run_payouts_process("2024-01")
    outputs = [proc.communicate(timeout=120) for proc in (first, second)]

    assert [proc.returncode for proc in (first, second)] == [0, 0], outputs
    run = PayoutRun.objects.get()
    assert (run.period, run.status) == (JAN, PayoutRun.Status.DRAFT)
    assert sum("created" in out.splitlines()[0] for out, _ in outputs) == 1
    payouts = Payout.objects.filter(run=run)
    assert payouts.count() == 60 + 20
    expected = {(p.pk, "USD"): Decimal("50") + n for n, p in enumerate(publishers)}
    expected |= {(p.pk, "EUR"): Decimal("500") for n, p in enumerate(publishers) if n % 3 == 0}
    assert {(p, c): a for p, c, a in payouts.values_list("publisher_id", "currency", "amount")} == expected


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_running_the_command_again_creates_nothing_new() -> None:
    publisher = PublisherFactory()
    approve_balance(publisher, "75.00", at=mid(JAN))
    first = _run_payouts_process("2024-01")
    first.communicate(timeout=120)

    out, _ = _run_payouts_process("2024-01").communicate(timeout=120)

    assert "Already built (draft): nothing new created." in out
    assert Payout.objects.count() == 1
