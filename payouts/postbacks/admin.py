"""Admin for publisher postbacks: settings editable, the delivery log read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from payouts.models.postbacks import PostbackAttempt, PostbackDelivery, PostbackEndpoint


@admin.register(PostbackEndpoint)
class PostbackEndpointAdmin(admin.ModelAdmin[PostbackEndpoint]):
    list_display = ["id", "publisher", "scope", "offer", "goal", "method", "url", "is_active"]
    list_filter = ["is_active", "method", "on_created", "on_approved", "on_reversed"]
    search_fields = ["url", "publisher__name"]
    raw_id_fields = ["publisher", "offer", "goal"]


class PostbackAttemptInline(admin.TabularInline[PostbackAttempt, PostbackDelivery]):
    model = PostbackAttempt
    extra = 0
    can_delete = False
    fields = ("created_at", "trigger", "ip", "status_code", "latency_ms", "error_code", "error")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PostbackDelivery)
class PostbackDeliveryAdmin(admin.ModelAdmin[PostbackDelivery]):
    list_display = ["id", "publisher", "event", "status", "attempts_count", "last_status_code", "created_at"]
    list_filter = ["status", "event"]
    search_fields = ["key", "url"]
    inlines = [PostbackAttemptInline]
    actions = ["resend"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in PostbackDelivery._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Re-send now")
    def resend(self, request: HttpRequest, queryset: Any) -> None:
        from payouts.postbacks.services import delivery_resend

        results = [delivery_resend(delivery=d).ok for d in queryset[:50]]
        self.message_user(request, f"Re-sent {len(results)}; {sum(results)} delivered.")


@admin.register(PostbackAttempt)
class PostbackAttemptAdmin(admin.ModelAdmin[PostbackAttempt]):
    list_display = ["id", "delivery", "created_at", "trigger", "status_code", "latency_ms", "error_code"]
    list_filter = ["trigger", "ok", "error_code"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
