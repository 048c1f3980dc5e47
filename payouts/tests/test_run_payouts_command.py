"""run_payouts and the monthly task: one run per period, with a progress bar."""

from __future__ import annotations

from datetime import UTC, date, datetime
from io import StringIO

import pytest
import time_machine
from django.conf import settings
from django.core.management import CommandError, call_command

from affiliates.models import Publisher
from affiliates.tests.factories import PublisherFactory
from payouts.models import Payout, PayoutRun
from payouts.tasks_payout_runs import payout_runs_monthly
from payouts.tests.factories_payouts import approve_balance, mid

JAN = date(2024, 1, 1)


def run_payouts(*args: str) -> str:
    out = StringIO()
    call_command("run_payouts", *args, stdout=out)
    return out.getvalue()


def test_it_builds_the_period_with_a_progress_bar(db: None) -> None:
    for publisher in PublisherFactory.create_batch(3):
        approve_balance(publisher, "60.00", at=mid(JAN))

    out = run_payouts("--period", "2024-01", "--chunk-size", "2")

    assert "Payout run 2024-01" in out
    assert "[####################..........] 2/3 publishers  66%" in out
    assert "[##############################] 3/3 publishers 100%" in out
    assert "3 payouts (3 new), total 180.00 USD" in out


def test_running_it_again_creates_nothing_new(pixelpush: Publisher) -> None:
    approve_balance(pixelpush, "60.00", at=mid(JAN))
    run_payouts("--period", "2024-01")

    out = run_payouts("--period", "2024-01", "--no-progress")

    assert "Already built (draft): nothing new created." in out
    assert "1 payouts (0 new)" in out
    assert Payout.objects.count() == 1


@pytest.mark.parametrize(("period", "code"), [("2024-1", "bad_period"), ("2999-01", "period_open")])
def test_it_refuses_a_bad_or_open_period(db: None, period: str, code: str) -> None:
    with pytest.raises(CommandError, match=code):
        run_payouts("--period", period)


def test_without_a_period_it_builds_last_month(pixelpush: Publisher) -> None:
    approve_balance(pixelpush, "60.00", at=mid(JAN))

    with time_machine.travel(datetime(2024, 2, 1, 3, 0, tzinfo=UTC)):
        run_payouts("--no-progress")

    assert PayoutRun.objects.get().period == JAN


def test_the_monthly_task_builds_last_months_run_once(pixelpush: Publisher) -> None:
    approve_balance(pixelpush, "60.00", at=mid(JAN))

    with time_machine.travel(datetime(2024, 2, 1, 3, 0, tzinfo=UTC)):
        first = payout_runs_monthly.apply().get()
        second = payout_runs_monthly.apply().get()

    assert (first["period"], first["created"], first["status"]) == ("2024-01", 1, "draft")
    assert (second["built_now"], second["created"]) == (False, 0)
    assert PayoutRun.objects.count() == 1


def test_the_monthly_task_is_scheduled_on_the_first_of_the_month() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["payout-run-monthly"]

    assert entry["task"] == "payouts.tasks_payout_runs.payout_runs_monthly"
    assert entry["schedule"].day_of_month == {1}
