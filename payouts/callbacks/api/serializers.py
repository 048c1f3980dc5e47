"""Input and output shapes of the postbacks API."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from affiliates.models import Goal, Offer, Publisher
from payouts.callbacks.services import FIRE_EVENTS
from payouts.callbacks.templates import CALLBACK_MACROS
from payouts.models.callbacks import CallbackAttempt, CallbackDelivery, CallbackEndpoint


class CallbackEndpointSerializer(serializers.ModelSerializer[CallbackEndpoint]):
    publisher = serializers.PrimaryKeyRelatedField(
        queryset=Publisher.objects.all(), required=False, help_text="Staff only; publishers get their own."
    )
    offer = serializers.PrimaryKeyRelatedField(
        queryset=Offer.objects.all(),
        required=False,
        allow_null=True,
        help_text="Only for this offer; null with goal null: every offer (global). Replaces the global "
        "postback for that offer.",
    )
    goal = serializers.PrimaryKeyRelatedField(
        queryset=Goal.objects.all(),
        required=False,
        allow_null=True,
        help_text="Only for this goal (its offer is filled in); replaces the offer's and the global "
        "postback for that goal.",
    )
    events = serializers.MultipleChoiceField(
        choices=FIRE_EVENTS, required=False, help_text="Which commission events fire this URL."
    )
    scope = serializers.CharField(
        read_only=True,
        help_text="global, offer or goal: the most specific active endpoint is the one that fires.",
    )
    url = serializers.CharField(
        max_length=2000, help_text=f"Macros: {', '.join('{' + m + '}' for m in CALLBACK_MACROS)}."
    )

    class Meta:
        model = CallbackEndpoint
        fields = [
            "id",
            "publisher",
            "scope",
            "offer",
            "goal",
            "url",
            "method",
            "events",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {"id": {"help_text": "Postback endpoint id."}}
        # The scope uniqueness is checked by the model (full_clean) once publisher is known.
        validators: list[Any] = []

    def to_representation(self, instance: CallbackEndpoint) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["events"] = instance.events
        return data

    def validate_events(self, value: set[str]) -> list[str]:
        if not value:
            raise serializers.ValidationError("Choose at least one event.", code="no_events")
        return sorted(value)


class CallbackAttemptSerializer(serializers.ModelSerializer[CallbackAttempt]):
    class Meta:
        model = CallbackAttempt
        fields = [
            "id",
            "delivery",
            "created_at",
            "trigger",
            "method",
            "url",
            "ip",
            "status_code",
            "latency_ms",
            "response_excerpt",
            "error_code",
            "error",
            "ok",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "id": {"help_text": "Attempt id."},
            "delivery": {"help_text": "The delivery this attempt belongs to."},
            "created_at": {"help_text": "When the request was sent (UTC)."},
            "trigger": {"help_text": "auto (the worker), resend (a manual re-send) or test (a test fire)."},
            "method": {"help_text": "GET or POST."},
            "url": {"help_text": "The URL requested, macros filled in."},
            "ip": {"help_text": "The vetted address connected to."},
            "status_code": {"help_text": "The HTTP status answered; null when no answer came."},
            "latency_ms": {"help_text": "Milliseconds until the answer; null when no answer came."},
            "response_excerpt": {"help_text": "The start of the answer's body."},
            "error_code": {"help_text": "Why it failed (timeout, blocked_address, ...); empty if ok."},
            "error": {"help_text": "The failure in words; empty if ok."},
            "ok": {"help_text": "True when the publisher's server answered 2xx."},
        }


class CallbackDeliverySerializer(serializers.ModelSerializer[CallbackDelivery]):
    class Meta:
        model = CallbackDelivery
        fields = [
            "id",
            "endpoint",
            "publisher",
            "offer",
            "commission",
            "event",
            "method",
            "url",
            "status",
            "attempts_count",
            "next_attempt_at",
            "give_up_at",
            "created_at",
            "delivered_at",
            "given_up_at",
            "last_status_code",
            "last_error",
        ]
        read_only_fields = fields
        extra_kwargs = {"id": {"help_text": "Delivery id."}}
