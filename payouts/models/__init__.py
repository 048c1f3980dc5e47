"""Payouts' models live in modules by concern; import them here so Django finds them."""

from payouts.models.callbacks import CallbackAttempt, CallbackDelivery, CallbackEndpoint  # noqa: F401
from payouts.models.commissions import Commission, CommissionShare, CommissionStatus
from payouts.models.customers import CohortRollup, Customer, CustomerMixRollup, CustomerValueRun
from payouts.models.documents import (
    AdvertiserPayment,
    Document,
    DocumentCounter,
    DocumentFrozen,
    DocumentItem,
    DocumentLine,
)
from payouts.models.ledger import Account, Entry, Transaction
from payouts.models.payout_runs import Payout, PayoutRun
from payouts.models.webhooks import WebhookSubscription

__all__ = [
    "Account",
    "AdvertiserPayment",
    "CohortRollup",
    "Commission",
    "CommissionShare",
    "CommissionStatus",
    "Customer",
    "CustomerMixRollup",
    "CustomerValueRun",
    "Document",
    "DocumentCounter",
    "DocumentFrozen",
    "DocumentItem",
    "DocumentLine",
    "Entry",
    "Payout",
    "PayoutRun",
    "Transaction",
    "WebhookSubscription",
]
