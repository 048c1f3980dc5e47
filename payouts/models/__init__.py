"""Payouts' models live in modules by concern; import them here so Django finds them."""

from payouts.models.commissions import Commission, CommissionStatus
from payouts.models.fx import FxRate
from payouts.models.ledger import Account, Entry, Transaction
from payouts.models.payout_runs import Payout, PayoutRun
from payouts.models.postbacks import PostbackAttempt, PostbackDelivery, PostbackEndpoint  # noqa: F401

__all__ = [
    "Account",
    "Commission",
    "CommissionStatus",
    "Entry",
    "FxRate",
    "Payout",
    "PayoutRun",
    "Transaction",
]
