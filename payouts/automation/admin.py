"""Automation rules in the admin: read-only, since saving goes through the services (validation,
the owning advertiser) and firings are a record. Staff write rules in the portal or the API."""

from __future__ import annotations

from django.contrib import admin

from affiliates.core.admin import ReadOnlyAdmin
from payouts.automation.models import Firing, Rule, WebhookDelivery


@admin.register(Rule)
class RuleAdmin(ReadOnlyAdmin[Rule]):
    list_display = (
        "name",
        "advertiser",
        "scope",
        "offer",
        "metric",
        "comparison",
        "threshold",
        "action",
        "is_active",
        "last_checked_at",
    )
    list_filter = ("scope", "metric", "action", "is_active")
    search_fields = ("name",)
    raw_id_fields = ("offer", "publisher", "creative", "variant", "advertiser", "created_by")


@admin.register(Firing)
class FiringAdmin(ReadOnlyAdmin[Firing]):
    list_display = (
        "rule",
        "target",
        "window_start",
        "metric_value",
        "action",
        "outcome",
        "created_at",
        "undone_at",
    )
    list_filter = ("action", "outcome")
    raw_id_fields = ("rule", "undone_by")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin[WebhookDelivery]):
    list_display = ("firing", "url", "status", "attempts_count", "last_status_code", "created_at")
    list_filter = ("status",)
    raw_id_fields = ("firing",)
