"""Conversion admin: read-mostly (conversions come from postbacks and pixels), with the trace
shown whole and review actions for held conversions that go through the services."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from tracking.conversions.services import conversion_review
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
    actions = ["approve_held", "reject_held"]
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

    def _review(self, request: HttpRequest, queryset: QuerySet[Conversion], approve: bool) -> None:
        held = list(queryset.filter(held_for_review=True))
        for conversion in held:
            conversion_review(conversion=conversion, approve=approve, actor=f"staff:{request.user.pk}")
        self.message_user(request, f"{len(held)} held conversion(s) reviewed.", messages.SUCCESS)

    @admin.action(description="Approve selected held conversions")
    def approve_held(self, request: HttpRequest, queryset: QuerySet[Conversion]) -> None:
        self._review(request, queryset, approve=True)

    @admin.action(description="Reject selected held conversions")
    def reject_held(self, request: HttpRequest, queryset: QuerySet[Conversion]) -> None:
        self._review(request, queryset, approve=False)
