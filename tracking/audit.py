"""Tracking's models in the audit log (affiliates/audit.py explains the specs): smart links,
holdout tests and the traffic policy. Clicks and conversions are events in their own right, not
audited edits."""

from __future__ import annotations

from affiliates.core.audit import audit_register
from tracking.models.holdouts import HoldoutTest
from tracking.models.policy import FrequencyCap, ListEntry, NamingTemplate
from tracking.models.smartlinks import SmartLink, SmartPath

#: A smart link's settings and paths: both its publisher and its advertiser may read them (the
#: optimiser's own weight moves are its runs, SmartRun, not edits).
SMART_LINK_FIELDS = (
    "name",
    "mode",
    "kpi",
    "floor_share",
    "min_clicks",
    "lookback_days",
    "run_every_hours",
    "shift_share",
    "sticky_hours",
    "fallback_url",
    "learning_since",
)
SMART_PATH_FIELDS = (
    "offer",
    "label",
    "landing_url",
    "weight",
    "status",
    "is_catch_all",
    "countries",
    "devices",
    "os",
    "hours",
    "daily_cap",
    "position",
)

#: A holdout test's settings and its stop, as its advertiser may read them.
HOLDOUT_FIELDS = (
    "name", "offer", "holdout_share", "starts_at", "ends_at", "control", "control_url", "stopping",
    "minimum_lift", "status", "stopped_at", "stop_reason",
)  # fmt: skip


def register() -> None:
    audit_register(
        SmartLink,
        label="smart link",
        advertiser="advertiser_id",
        publisher="publisher_id",
        advertiser_fields=SMART_LINK_FIELDS,
        publisher_fields=SMART_LINK_FIELDS,
        exclude=["last_run_at", "updated_at"],
    )
    audit_register(
        SmartPath,
        label="smart link path",
        advertiser="smart_link.advertiser_id",
        publisher="smart_link.publisher_id",
        advertiser_fields=SMART_PATH_FIELDS,
        publisher_fields=SMART_PATH_FIELDS,
    )
    audit_register(
        HoldoutTest,
        label="holdout test",
        advertiser="offer.advertiser_id",
        advertiser_fields=HOLDOUT_FIELDS,
        exclude=["result"],  # the stored report: large, and derived, not an edit
    )
    # Issue 14's traffic policy: who blocked, allowed or capped what, and when.
    audit_register(
        FrequencyCap,
        label="frequency cap",
        advertiser="advertiser_id",
        advertiser_fields=("advertiser", "offer", "window_days", "limit"),
        exclude=["updated_at"],
    )
    audit_register(
        ListEntry,
        label="negative list entry",
        advertiser="advertiser_id",
        advertiser_fields=("advertiser", "offer", "mode", "kind", "value", "note"),
        exclude=["updated_at"],
    )
    audit_register(NamingTemplate, label="naming template", exclude=["updated_at"])
