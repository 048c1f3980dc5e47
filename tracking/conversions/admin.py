"""Conversion admin: read-mostly (conversions come from postbacks and pixels), with the trace
shown whole and status actions that go through tracking.lifecycle's rules."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from tracking.conversions.status import conversion_release, conversion_status_change
from tracking.lifecycle import Decider, Party, Verdict
from tracking.models import Conversion, ConversionEvent, UnreconciledConversion


class ConversionEventInline(admin.TabularInline[ConversionEvent, Conversion]):
    model = ConversionEvent
    extra = 0
    can_delete = False
    readonly_fields = ["created_at", "from_status", "to_status", "reason", "actor"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Conversion)
class ConversionAdmin(admin.ModelAdmin[Conversion]):
    list_display = [
        "id",
        "created_at",
        "source",
        "offer",
        "publisher",
        "goal",
        "txn_id",
        "status",
        "reason",
        "held_for_review",
        "amount",
        "currency",
    ]
    list_filter = ["status", "held_for_review", "source", "reason", "created_at"]
    search_fields = ["txn_id", "coupon", "=id", "sub1"]
    list_select_related = ["offer", "publisher", "goal"]
    date_hierarchy = "created_at"
    inlines = [ConversionEventInline]
    actions = ["release_held", "approve_now", "reject"]
    exclude = ["trace"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in Conversion._meta.fields if f.name != "trace"] + ["reconciled", "trace_pretty"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # an audit record: status changes are events, never deletions

    @admin.display(description="Reconciled", boolean=True)
    def reconciled(self, obj: Conversion) -> bool:
        return not UnreconciledConversion.objects.filter(conversion_id=obj.pk).exists()

    @admin.display(description="Trace")
    def trace_pretty(self, obj: Conversion) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.trace, indent=2, sort_keys=True))

    def _decide(self, request: HttpRequest, queryset: QuerySet[Conversion], action: str) -> None:
        """Every action asks the lifecycle's rules, like the portals and the API do."""
        decider = Decider(Party.NETWORK, f"staff:{request.user.pk}")
        done, refused = 0, []
        for conversion in queryset:
            verdict: Verdict
            if action == "release":
                verdict = conversion_release(conversion=conversion, decider=decider, reason="admin")
            else:
                verdict = conversion_status_change(
                    conversion=conversion, to_status=action, decider=decider, reason="admin"
                )
            if verdict.allowed:
                done += 1
            else:
                refused.append(f"#{conversion.pk}: {verdict.message}")
        if done:
            self.message_user(request, f"{done} conversion(s) {action}.", messages.SUCCESS)
        if refused:
            self.message_user(request, "Refused: " + "; ".join(refused[:10]), messages.WARNING)

    @admin.action(description="Release selected from fraud review (they stay pending)")
    def release_held(self, request: HttpRequest, queryset: QuerySet[Conversion]) -> None:
        self._decide(request, queryset, "release")

    @admin.action(description="Approve selected now")
    def approve_now(self, request: HttpRequest, queryset: QuerySet[Conversion]) -> None:
        self._decide(request, queryset, "approved")

    @admin.action(description="Reject selected")
    def reject(self, request: HttpRequest, queryset: QuerySet[Conversion]) -> None:
        self._decide(request, queryset, "rejected")
