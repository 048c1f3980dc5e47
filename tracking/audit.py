"""Tracking's models in the audit log (affiliates/audit.py explains the specs): the offer's
conversion target. Clicks and conversions are events in their own right, not audited edits."""

from __future__ import annotations

from affiliates.core.audit import audit_register
from tracking.models.reports import OfferTarget


def register() -> None:
    audit_register(
        OfferTarget,
        label="offer target",
        advertiser="offer.advertiser_id",
        advertiser_fields=("period", "conversions"),
        exclude=["updated_at"],
    )
