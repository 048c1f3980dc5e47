"""Approving and paying a payout run confirm first, in the run's own numbers: how many
payouts, to how many publishers, for how much per currency, with which reference."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from affiliates.tests.signin import sign_in
from payouts.models import PayoutRun
from tests.portal_data import payout_run_make

pytestmark = pytest.mark.django_db
JAN = date(2026, 1, 1)


def test_approving_a_run_shows_its_payouts_then_approves(nadia: Any, pixelpush: Any) -> None:
    run = payout_run_make(period=JAN, publisher=pixelpush, amount=Decimal("1234.50"))
    client = sign_in(Client(), nadia)
    url = f"/staff/payout-runs/{run.pk}/approve/"
    asked = client.post(url)
    assert asked.status_code == 200
    assert "1 draft payout to 1 publisher (1,234.50 USD) becomes approved" in asked.content.decode()
    run.refresh_from_db()
    assert run.status == PayoutRun.Status.DRAFT
    assert client.post(url, {"confirming": "1"}).status_code == 400
    client.post(url, {"confirm": "yes"})
    run.refresh_from_db()
    assert run.status == PayoutRun.Status.APPROVED


def test_paying_a_run_names_its_reference_and_keeps_it_through_the_confirm(
    nadia: Any, pixelpush: Any
) -> None:
    run = payout_run_make(period=JAN, publisher=pixelpush, amount=Decimal("80.00"))
    client = sign_in(Client(), nadia)
    client.post(f"/staff/payout-runs/{run.pk}/approve/", {"confirm": "yes"})
    url = f"/staff/payout-runs/{run.pk}/pay/"
    asked = client.post(url, {"reference": "WIRE-7"})
    body = asked.content.decode()
    assert "1 approved payout to 1 publisher (80.00 USD) is marked paid with reference “WIRE-7”" in body
    assert 'name="reference" value="WIRE-7"' in body  # posted again with the confirmation
    run.refresh_from_db()
    assert run.status == PayoutRun.Status.APPROVED
    client.post(url, {"reference": "WIRE-7", "confirm": "yes"})
    run.refresh_from_db()
    assert run.status == PayoutRun.Status.PAID
    assert run.payouts.get().payment_reference == "WIRE-7"
