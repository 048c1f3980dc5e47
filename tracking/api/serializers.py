"""Conversion output: the list row, and the detail with its trace and status events."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from affiliates.roles import NOBODY, actor_for
from tracking.conversions.trace_view import trace_for
from tracking.journeys.trace import trace_with_journey
from tracking.models import Conversion, ConversionEvent


class ConversionEventSerializer(serializers.ModelSerializer[ConversionEvent]):
    class Meta:
        model = ConversionEvent
        fields = ["created_at", "from_status", "to_status", "reason", "actor"]


class ConversionSerializer(serializers.ModelSerializer[Conversion]):
    goal_code = serializers.CharField(
        source="goal.code",
        read_only=True,
        default=None,
        help_text="Code of the goal; null when unattributed.",
    )
    click_id = serializers.SerializerMethodField(
        help_text="Id of the attributed click (32 hex digits); null for coupon and unattributed conversions."
    )
    # Annotated by the view (Conversion.objects.with_reconciled()).
    reconciled = serializers.BooleanField(
        read_only=True,
        help_text=(
            "True once payouts has turned it into its commission (or found it earns none) and brought "
            "that commission to its latest status; false while that is pending."
        ),
    )

    class Meta:
        model = Conversion
        fields = [
            "id",
            "created_at",
            "source",
            "advertiser",
            "offer",
            "publisher",
            "goal",
            "goal_code",
            "click_id",
            "click_time",
            "txn_id",
            "coupon",
            "status",
            "reason",
            "amount",
            "currency",
            "country",
            "sub1",
            "sub2",
            "sub3",
            "sub4",
            "sub5",
            "source_id",
            "customer_hash",
            "customer_type",
            "fraud_flags",
            "held_for_review",
            "reconciled",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "id": {"help_text": "Conversion id."},
            "customer_hash": {
                "help_text": "The customer id as the advertiser's keyed hash. Not for publishers."
            },
        }

    def get_fields(self) -> dict[str, Any]:
        # Publishers never see customer ids, hashed or not; dropped from the fields so that search
        # and ordering (affiliates.api.lookups) cannot reach them either.
        fields = super().get_fields()
        request = self.context.get("request")
        actor = actor_for(request.user) if request is not None else NOBODY
        if not (actor.is_staff or actor.is_advertiser):
            fields.pop("customer_hash", None)
        return fields

    def get_click_id(self, obj: Conversion) -> str | None:
        return obj.click_id.hex if obj.click_id else None


class ConversionDetailSerializer(ConversionSerializer):
    trace = serializers.SerializerMethodField(
        help_text="Why it was attributed, rejected or held: the click chosen and the alternatives, the "
        "attribution model, fraud rules fired, goal and price. Each role sees the parts its other "
        "views show (tracking/conversions/trace_view.py): publishers neither revenue, other "
        "publishers' clicks nor visitor or sender addresses; advertisers neither the payout nor "
        "the sender address; staff everything."
    )
    events = ConversionEventSerializer(many=True, read_only=True, help_text="Status changes, oldest first.")

    class Meta(ConversionSerializer.Meta):
        fields = [*ConversionSerializer.Meta.fields, "trace", "events"]
        read_only_fields = fields

    def get_trace(self, obj: Conversion) -> dict[str, Any]:
        request = self.context.get("request")
        actor = actor_for(request.user) if request is not None else NOBODY
        return trace_for(trace_with_journey(obj), actor)
