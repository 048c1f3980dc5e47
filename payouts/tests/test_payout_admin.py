"""The admin shows runs with their progress and approves / pays / fails through the services."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.test import Client

from affiliates.models import Publisher
from affiliates.tests.signin import sign_in
from payouts.models import Payout, PayoutRun, Transaction
from payouts.payout_build import payout_run_build, payout_run_start
from payouts.tests.factories_payouts import approve_balance, mid

JAN = date(2024, 1, 1)


@pytest.fixture
def admin_client_of(nadia: Any) -> Client:
    client = Client()
    sign_in(client, nadia)
    return client


@pytest.fixture
def jan_run(pixelpush: Publisher) -> PayoutRun:
    approve_balance(pixelpush, "120.00", at=mid(JAN))
    run, _ = payout_run_start(period=JAN)
    payout_run_build(run_id=run.pk)
    return run


def test_the_run_list_shows_progress(admin_client_of: Client, jan_run: PayoutRun) -> None:
    building, _ = payout_run_start(period=date(2024, 2, 1))
    PayoutRun.objects.filter(pk=building.pk).update(progress_done=250, progress_total=1000)

    page = admin_client_of.get("/admin/payouts/payoutrun/").content.decode()

    assert '<progress value="25" max="100"' in page
    assert "250/1000 publishers" in page
    assert '<progress value="100" max="100"' in page


def test_staff_approve_and_pay_a_run_from_the_admin(admin_client_of: Client, jan_run: PayoutRun) -> None:
    url = "/admin/payouts/payoutrun/"
    for action in ("approve_runs", "mark_runs_paid"):
        response = admin_client_of.post(url, {"action": action, "_selected_action": [jan_run.pk]})
        assert response.status_code == 302

    jan_run.refresh_from_db()
    assert jan_run.status == PayoutRun.Status.PAID
    assert jan_run.payouts.get().payment_reference == "BATCH-202401"
    assert Transaction.objects.filter(kind=Transaction.Kind.PAYOUT).count() == 1


def test_staff_fail_a_payout_from_the_admin(admin_client_of: Client, jan_run: PayoutRun) -> None:
    payout = jan_run.payouts.get()

    admin_client_of.post(
        "/admin/payouts/payout/", {"action": "fail_payouts", "_selected_action": [payout.pk]}
    )

    payout.refresh_from_db()
    assert payout.status == Payout.Status.FAILED
    assert payout.failure_reason == "Failed in admin by nadia"
    assert admin_client_of.get(f"/admin/payouts/payoutrun/{jan_run.pk}/change/").status_code == 200
