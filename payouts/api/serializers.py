"""Commission, ledger, balance and FX serializers. Publishers never see revenue (the
advertiser's price) and advertisers never see the publisher's payout: the margin is private."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from affiliates.core.db import MAX_ID
from affiliates.core.money import currency_is_valid
from affiliates.models import FxRate
from payouts.models import Account, Commission, Entry

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
    "customer_hash",
    "status_reason",
    "approved_at",
    "reversed_at",
    "created_at",
    "updated_at",
]
HIDDEN = {"publisher": {"revenue", "price_source", "advertiser"}, "advertiser": {"payout", "price_source"}}
#: Shown to these roles only (publishers never see customer ids, hashed or not).
ONLY_FOR = {"customer_hash": {"staff", "advertiser"}}


class CommissionSerializer(serializers.ModelSerializer[Commission]):
    role_shaped = True  # affiliates.api.schema: HIDDEN drops fields per role
    customer_hash = serializers.CharField(
        source="conversion.customer_hash",
        read_only=True,
        default=None,
        help_text="The conversion's customer id as the advertiser's keyed hash; null without one. Not for "
        "publishers.",
    )

    class Meta:
        model = Commission
        fields = COMMISSION_FIELDS
        read_only_fields = COMMISSION_FIELDS
        extra_kwargs = {"id": {"help_text": "Commission id."}}

    def get_fields(self) -> dict[str, Any]:
        # Dropped from the fields, not only from the output, so that search and ordering
        # (affiliates.api.lookups) cannot reach them either.
        fields = super().get_fields()
        role = self.context.get("role", "")
        for name in HIDDEN.get(role, ()):
            fields.pop(name, None)
        for name, roles in ONLY_FOR.items():
            if role not in roles:
                fields.pop(name, None)
        return fields


class ReasonSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=255)


class BulkActionSerializer(serializers.Serializer[Any]):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), min_length=1, max_length=5000
    )
    action = serializers.ChoiceField(choices=["approve", "reject", "reverse"])
    reason = serializers.CharField(max_length=255)


class AdjustmentUploadSerializer(serializers.Serializer[Any]):
    file = serializers.FileField()


class EntrySerializer(serializers.ModelSerializer[Entry]):
    account_kind = serializers.CharField(
        source="account.kind", help_text="Kind of the account, e.g. publisher_payable, advertiser_pending."
    )
    transaction_kind = serializers.CharField(
        source="transaction.kind",
        help_text="What was posted: commission, commission_increase, approval, rejection, reversal, "
        "adjustment, payout or payout_failed.",
    )
    transaction_key = serializers.CharField(
        source="transaction.key",
        help_text="The transaction's idempotency key (commission:<id>:r<n>, payout:<id>...): each is "
        "posted once.",
    )
    commission = serializers.IntegerField(
        source="transaction.commission_id", allow_null=True, help_text="Commission the transaction is for."
    )
    payout = serializers.IntegerField(
        source="transaction.payout_id", allow_null=True, help_text="Payout the transaction is for."
    )
    memo = serializers.CharField(source="transaction.memo", help_text="Free-text note of the transaction.")

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
        extra_kwargs = {"id": {"help_text": "Entry id."}}


class FxRateSerializer(serializers.ModelSerializer[FxRate]):
    class Meta:
        model = FxRate
        fields = ["id", "base", "quote", "rate", "valid_from", "created_at"]
        read_only_fields = ["created_at"]
        extra_kwargs = {"id": {"help_text": "FX rate id."}}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        for name in ("base", "quote"):
            if name in attrs and not currency_is_valid(attrs[name]):
                raise serializers.ValidationError({name: ["Unknown ISO 4217 code."]}, code="unknown_currency")
        if attrs.get("base") and attrs.get("base") == attrs.get("quote"):
            raise serializers.ValidationError({"quote": ["Must differ from base."]}, code="same_currency")
        if "rate" in attrs and attrs["rate"] <= 0:
            raise serializers.ValidationError({"rate": ["Must be positive."]}, code="bad_rate")
        return attrs


BALANCE = 'Decimal string at the currency\'s minor unit ("17.50", "1250" in JPY).'


class BalanceParamsSerializer(serializers.Serializer[Any]):
    """Staff filters of the account listing; publishers and advertisers get their own summary."""

    kind = serializers.ChoiceField(choices=Account.Kind.choices, required=False, help_text="Account kind.")
    currency = serializers.CharField(max_length=3, required=False, help_text="ISO 4217 code.")
    publisher = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, required=False, help_text="Publisher id."
    )
    advertiser = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, required=False, help_text="Advertiser id."
    )


class PublisherFiguresSerializer(serializers.Serializer[Any]):
    pending = serializers.CharField(help_text=f"Earned on commissions not yet approved. {BALANCE}")
    approved = serializers.CharField(
        help_text="Approved and not yet paid: what the next payout pays. Negative when a reversal "
        f"hit money already paid; the next payout nets it. {BALANCE}"
    )
    paid = serializers.CharField(
        help_text=f"Payouts sent (marked paid), net of payouts that failed afterwards. {BALANCE}"
    )


class AdvertiserFiguresSerializer(serializers.Serializer[Any]):
    pending = serializers.CharField(help_text=f"Owed for commissions not yet approved. {BALANCE}")
    approved = serializers.CharField(
        help_text=f"Owed for approved commissions, what invoices bill. {BALANCE}"
    )


class PublisherBalanceSerializer(serializers.Serializer[Any]):
    publisher = serializers.IntegerField(help_text="The caller's publisher id.")
    balances = serializers.DictField(
        child=PublisherFiguresSerializer(), help_text="By ISO 4217 currency code: the figures in it."
    )


class AdvertiserBalanceSerializer(serializers.Serializer[Any]):
    advertiser = serializers.IntegerField(help_text="The caller's advertiser id.")
    balances = serializers.DictField(
        child=AdvertiserFiguresSerializer(), help_text="By ISO 4217 currency code: the figures in it."
    )


class AccountBalanceSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(help_text="Ledger account id (filter entries/ with account=).")
    kind = serializers.ChoiceField(choices=Account.Kind.choices, help_text="What the account holds.")
    advertiser_id = serializers.IntegerField(allow_null=True, help_text="Owner, for advertiser accounts.")
    publisher_id = serializers.IntegerField(allow_null=True, help_text="Owner, for publisher accounts.")
    currency = serializers.CharField(help_text="ISO 4217 code of every entry on the account.")
    balance = serializers.CharField(
        help_text=f"Sum of the account's entries, debit positive: receivables are positive, what the "
        f"network owes is negative. {BALANCE}"
    )


class AccountBalancesSerializer(serializers.Serializer[Any]):
    accounts = AccountBalanceSerializer(many=True, help_text="Every matching account, by kind and currency.")
