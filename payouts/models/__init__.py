"""Payouts' models live in modules by concern; import them here so Django finds them."""

from payouts.models.callbacks import CallbackAttempt, CallbackDelivery, CallbackEndpoint  # noqa: F401
from payouts.models.commissions import Commission, CommissionStatus
from payouts.models.ledger import Account, Entry, Transaction
from payouts.models.payout_runs import Payout, PayoutRun

__all__ = [
    "Account",
    "Commission",
    "CommissionStatus",
    "Entry",
    "Payout",
    "PayoutRun",
    "Transaction",
]
