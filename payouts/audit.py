"""The payouts models in the audit log (affiliates/audit.py explains the specs).

Commissions are created in bulk by reconciliation (COPY or bulk_create), which fires no
signal: creation is already an event (the conversion, the ledger transaction), and no entry is
written for it. Their changes are logged by ``payouts.postings.changes_apply`` explicitly, one
INSERT per batch, whatever path asked (API, portal, CSV adjustments, hold job, reconciliation).
No code saves a commission row by row (the admin is read-only), so auditlog's signals are not
connected for them at all: the reconcile benchmark's per-row baseline is measured as before.
"""

from __future__ import annotations

from affiliates.core.audit import audit_register
from payouts.models import Commission, Payout, PayoutRun
from payouts.models.callbacks import CallbackEndpoint
from payouts.models.webhooks import WebhookSubscription

#: What a webhook subscription's entries show its owner: everything but the secrets, which are
#: never logged (a rotation shows as a new ``previous_secret_until``).
WEBHOOK_FIELDS = ("owner", "name", "url", "events", "is_active", "previous_secret_until")

#: What a commission's audit entries may show each role (payouts/api/serializers.py HIDDEN):
#: never the payout to the advertiser, never revenue to the publisher.
COMMISSION_SHARED = ("status", "status_reason", "held_for_review", "quantity", "approved_at", "reversed_at")


def register() -> None:
    audit_register(
        Commission,
        label="commission",
        advertiser="advertiser_id",
        publisher="publisher_id",
        advertiser_fields=(*COMMISSION_SHARED, "revenue"),
        publisher_fields=(*COMMISSION_SHARED, "payout"),
        signals=False,
    )
    audit_register(
        Payout,
        label="payout",
        publisher="publisher_id",
        publisher_fields=(
            "status",
            "amount",
            "currency",
            "payout_currency",
            "payout_amount",
            "fx_rate",
            "method",
            "details",
            "payment_reference",
            "failure_reason",
            "hold_reason",
            "paid_at",
        ),
    )
    audit_register(PayoutRun, label="payout run", exclude=["progress_done", "task_id"])
    audit_register(
        CallbackEndpoint,
        label="postback endpoint",
        publisher="publisher_id",
        publisher_fields=(
            "offer",
            "goal",
            "url",
            "method",
            "on_created",
            "on_approved",
            "on_reversed",
            "is_active",
        ),
        exclude=["updated_at"],
    )
    audit_register(
        WebhookSubscription,
        label="webhook subscription",
        advertiser="advertiser_id",
        publisher="publisher_id",
        advertiser_fields=WEBHOOK_FIELDS,
        publisher_fields=WEBHOOK_FIELDS,
        exclude=["secret", "previous_secret", "clicks_seen_until", "updated_at"],
    )
