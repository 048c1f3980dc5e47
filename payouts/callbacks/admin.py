"""Admin for publisher postbacks: settings editable, the delivery log read-only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from affiliates.core.admin import ReadOnlyAdmin
from payouts.callbacks.services import delivery_resend
from payouts.callbacks.templates import validate_callback_url
from payouts.models.callbacks import CallbackAttempt, CallbackDelivery, CallbackEndpoint
from payouts.models.webhooks import WebhookSubscription


class CallbackEndpointForm(forms.ModelForm[CallbackEndpoint]):
    """The admin builds the fields; this adds the URL template's vetting (as the services do)."""

    def clean_url(self) -> str:
        url: str = self.cleaned_data["url"]
        validate_callback_url(url)
        return url


@admin.register(CallbackEndpoint)
class CallbackEndpointAdmin(admin.ModelAdmin[CallbackEndpoint]):
    form = CallbackEndpointForm
    list_display = ["id", "publisher", "scope", "offer", "goal", "method", "url", "is_active"]
    list_filter = ["is_active", "method", "on_created", "on_approved", "on_reversed"]
    search_fields = ["url", "publisher__name"]
    raw_id_fields = ["publisher", "offer", "goal"]


class CallbackAttemptInline(admin.TabularInline[CallbackAttempt, CallbackDelivery]):
    model = CallbackAttempt
    extra = 0
    can_delete = False
    fields = ("created_at", "trigger", "ip", "status_code", "latency_ms", "error_code", "error")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CallbackDelivery)
class CallbackDeliveryAdmin(admin.ModelAdmin[CallbackDelivery]):
    list_display = ["id", "publisher", "event", "status", "attempts_count", "last_status_code", "created_at"]
    list_filter = ["status", "event"]
    search_fields = ["key", "url"]
    inlines = [CallbackAttemptInline]
    actions = ["resend"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in CallbackDelivery._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Re-send now")
    def resend(self, request: HttpRequest, queryset: Any) -> None:
        results = [delivery_resend(delivery=d).ok for d in queryset[:50]]
        self.message_user(request, f"Re-sent {len(results)}; {sum(results)} delivered.")


@admin.register(CallbackAttempt)
class CallbackAttemptAdmin(ReadOnlyAdmin[CallbackAttempt]):
    list_display = ["id", "delivery", "created_at", "trigger", "status_code", "latency_ms", "error_code"]
    list_filter = ["trigger", "ok", "error_code"]


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(ReadOnlyAdmin[WebhookSubscription]):
    """Read-only for superusers: subscriptions are managed (and secrets shown once) in the portal
    and the API, which vet the URL and the events each owner may get."""

    list_display = ["id", "owner", "advertiser", "publisher", "name", "url", "is_active", "created_at"]
    list_filter = ["owner", "is_active"]
    search_fields = ["url", "name", "advertiser__name", "publisher__name"]
    exclude = ["secret", "previous_secret"]
