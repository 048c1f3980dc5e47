"""A/B tests, their decisions and budget shifts in the audit log (affiliates/audit.py explains
the specs). A look's bookkeeping (the last look, the alpha spent) is not a change anybody made."""

from __future__ import annotations

from affiliates.core.audit import audit_register
from payouts.experiments.abtests import SETTINGS
from payouts.experiments.models import AbDecision, BudgetShift, ShiftSettings
from tracking.models import AbTest, AbVariant


def register() -> None:
    audit_register(
        AbTest,
        label="A/B test",
        advertiser="offer.advertiser_id",
        advertiser_fields=(*SETTINGS, "status", "started_at", "keep_until"),
        exclude=["last_look", "last_look_at", "looks_done", "alpha_spent", "updated_at"],
    )
    audit_register(
        AbVariant,
        label="A/B variant",
        advertiser="test.offer.advertiser_id",
        advertiser_fields=("label", "landing_url", "creative", "weight", "status", "is_control"),
    )
    audit_register(
        AbDecision,
        label="A/B decision",
        advertiser="test.offer.advertiser_id",
        advertiser_fields=("kind", "winner", "automatic", "note", "undone_at"),
    )
    audit_register(
        BudgetShift,
        label="budget shift",
        advertiser="advertiser_id",
        advertiser_fields=("lever", "scope", "status", "changes", "applied_at", "undone_at"),
    )
    audit_register(
        ShiftSettings,
        label="budget shift settings",
        advertiser="advertiser_id",
        advertiser_fields=("auto_apply", "share"),
    )
