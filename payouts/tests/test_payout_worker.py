"""run_payouts --enqueue against a real Celery worker over Redis, on PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from affiliates.tests.factories import PublisherFactory
from payouts.models import PayoutRun
from payouts.tests.factories_payouts import approve_balance, mid
from payouts.tests.test_payout_concurrency import _database_url

ROOT = Path(__file__).resolve().parents[2]
JAN = date(2024, 1, 1)


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_builds_the_run_and_the_command_waits_for_it() -> None:
    for publisher in PublisherFactory.create_batch(40):
        approve_balance(publisher, "60.00", at=mid(JAN))
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        command = subprocess.run(
            [sys.executable, "manage.py", "run_payouts", "--period", "2024-01", "--enqueue"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )
    finally:
        worker.terminate()
        worker.wait(timeout=30)

    assert command.returncode == 0, command.stderr
    assert "40 payouts (40 new), total 2400.00 USD" in command.stdout
    run = PayoutRun.objects.get()
    assert run.status == PayoutRun.Status.DRAFT
    assert run.task_id
    assert (run.progress_done, run.progress_total) == (40, 40)
