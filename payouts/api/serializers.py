"""Commission, ledger, balance and FX serializers. Publishers never see revenue (the
advertiser's price) and advertisers never see the publisher's payout: the margin is private."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from payouts.models import Commission, Entry, FxRate
from payouts.money import currency_is_valid

COMMISSION_FIELDS = [
    "id",
    "source_key",
    "kind",
    "conversion",
    "advertiser",
    "offer",
    "publisher",
    "goal",
    "day",
    "quantity",
    "status",
    "currency",
    "revenue",
    "payout",
    "sale_amount",
    "original_amount",
    "original_currency",
    "fx_rate",
    "price_source",
    "hold_until",
    "held_for_review",
    "status_reason",
    "approved_at",
    "reversed_at",
    "created_at",
    "updated_at",
]
HIDDEN = {"publisher": {"revenue", "price_source", "advertiser"}, "advertiser": {"payout", "price_source"}}


class CommissionSerializer(serializers.ModelSerializer[Commission]):
    class Meta:
        model = Commission
        fields = COMMISSION_FIELDS
        read_only_fields = COMMISSION_FIELDS

    def to_representation(self, instance: Commission) -> dict[str, Any]:
        data = super().to_representation(instance)
        for name in HIDDEN.get(self.context.get("role", ""), ()):
            data.pop(name, None)
        return data


class ReasonSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=255)


class BulkActionSerializer(serializers.Serializer[Any]):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1), min_length=1, max_length=5000)
    action = serializers.ChoiceField(choices=["approve", "reject", "reverse"])
    reason = serializers.CharField(max_length=255)


class AdjustmentUploadSerializer(serializers.Serializer[Any]):
    file = serializers.FileField()


class EntrySerializer(serializers.ModelSerializer[Entry]):
    account_kind = serializers.CharField(source="account.kind")
    transaction_kind = serializers.CharField(source="transaction.kind")
    transaction_key = serializers.CharField(source="transaction.key")
    commission = serializers.IntegerField(source="transaction.commission_id", allow_null=True)
    payout = serializers.IntegerField(source="transaction.payout_id", allow_null=True)
    memo = serializers.CharField(source="transaction.memo")

    class Meta:
        model = Entry
        fields = [
            "id",
            "transaction",
            "transaction_kind",
            "transaction_key",
            "commission",
            "payout",
            "memo",
            "account",
            "account_kind",
            "amount",
            "currency",
            "created_at",
        ]


class FxRateSerializer(serializers.ModelSerializer[FxRate]):
    class Meta:
        model = FxRate
        fields = ["id", "base", "quote", "rate", "valid_from", "created_at"]
        read_only_fields = ["created_at"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        for name in ("base", "quote"):
            if name in attrs and not currency_is_valid(attrs[name]):
                raise serializers.ValidationError({name: ["Unknown ISO 4217 code."]}, code="unknown_currency")
        if attrs.get("base") and attrs.get("base") == attrs.get("quote"):
            raise serializers.ValidationError({"quote": ["Must differ from base."]}, code="same_currency")
        if "rate" in attrs and attrs["rate"] <= 0:
            raise serializers.ValidationError({"rate": ["Must be positive."]}, code="bad_rate")
        return attrs
