"""A payout names itself in the audit log and the admin (it read "Payout object (26)")."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from payouts.models import Payout


def test_a_payout_reads_as_its_period_publisher_amount_and_status():
    payout = Payout(pk=26, publisher_id=7, period=date(2026, 11, 1), amount=Decimal("125.50"), currency="EUR")
    payout.status = "approved"
    assert str(payout) == "Payout #26 2026-11 publisher 7: 125.50 EUR (approved)"
