"""Automation rules in the audit log (affiliates/audit.py explains the specs).

A rule's own bookkeeping (when it is next due, what the last check found) changes every few
minutes and is not a change anybody made: it is left out. What a firing does to an offer, an
access or a cap is logged on that object, with the rule's check as its source (tasks.py).
"""

from __future__ import annotations

from affiliates.core.audit import audit_register
from payouts.automation.models import Firing, Rule
from payouts.automation.services import EDITABLE


def register() -> None:
    audit_register(
        Rule,
        label="automation rule",
        advertiser="advertiser_id",
        advertiser_fields=EDITABLE,  # the advertiser reads what it may set
        exclude=["next_check_at", "last_checked_at", "last_result", "updated_at", "webhook_secret"],
    )
    audit_register(
        Firing,
        label="rule firing",
        advertiser="rule.advertiser_id",
        advertiser_fields=("target", "action", "outcome", "detail", "undone_at", "undo_detail"),
    )
