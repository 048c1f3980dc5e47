"""Conversion output: the list row, and the detail with its trace and status events."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

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
            "fraud_flags",
            "held_for_review",
            "reconciled",
        ]
        read_only_fields = fields
        extra_kwargs = {"id": {"help_text": "Conversion id."}}

    def get_click_id(self, obj: Conversion) -> str | None:
        return obj.click_id.hex if obj.click_id else None


class ConversionDetailSerializer(ConversionSerializer):
    trace = serializers.SerializerMethodField(
        help_text="Why it was attributed, rejected or held: the click chosen and the alternatives, the "
        "attribution model, fraud rules fired, goal and price. Publishers do not see other clicks "
        "considered or the sender's IP."
    )
    events = ConversionEventSerializer(many=True, read_only=True, help_text="Status changes, oldest first.")

    class Meta(ConversionSerializer.Meta):
        fields = [*ConversionSerializer.Meta.fields, "trace", "events"]
        read_only_fields = fields

    def get_trace(self, obj: Conversion) -> dict[str, Any]:
        trace = dict(obj.trace or {})
        if self.context.get("publisher_view"):
            # Other clicks considered may be other publishers' traffic, and the sender address
            # is the advertiser's server: neither is the publisher's to see.
            attribution = dict(trace.get("attribution") or {})
            if attribution.get("alternatives"):
                attribution["alternatives"] = [{"redacted": True} for _ in attribution["alternatives"]]
            trace["attribution"] = attribution
            trace["request"] = {k: v for k, v in (trace.get("request") or {}).items() if k != "sender_ip"}
        return trace
