"""Shapes of the payout-run API. Amounts are strings at the currency's minor unit."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Sum
from rest_framework import serializers

from affiliates.core.db import MAX_ID
from payouts.exports.tabular import amount_text
from payouts.models import Payout, PayoutRun


class PayoutRunSerializer(serializers.ModelSerializer[PayoutRun]):
    period = serializers.SerializerMethodField(help_text="The month paid for, YYYY-MM.")
    progress_percent = serializers.SerializerMethodField(
        help_text="Share of publishers processed, 0-100; 100 once the run is built."
    )
    totals = serializers.SerializerMethodField(
        help_text="Per currency: payouts and amount, failed and held excluded."
    )

    class Meta:
        model = PayoutRun
        fields = [
            "id", "period", "status", "task_id", "progress_done", "progress_total", "progress_percent",
            "totals", "created_at", "approved_at", "approved_by", "paid_at",
        ]  # fmt: skip
        read_only_fields = fields
        extra_kwargs = {"id": {"help_text": "Payout run id."}}

    def get_period(self, run: PayoutRun) -> str:
        return f"{run.period:%Y-%m}"

    def get_progress_percent(self, run: PayoutRun) -> int:
        if run.status != PayoutRun.Status.BUILDING:
            return 100
        return 100 * run.progress_done // run.progress_total if run.progress_total else 0

    def get_totals(self, run: PayoutRun) -> list[dict[str, Any]]:
        rows = (
            Payout.objects.filter(run=run)
            .exclude(status__in=(Payout.Status.FAILED, Payout.Status.HELD))
            .values_list("currency")
            .annotate(count=Count("id"), total=Sum("amount"))
            .order_by("currency")
        )
        return [{"currency": cur, "payouts": n, "amount": amount_text(total, cur)} for cur, n, total in rows]


class PayoutSerializer(serializers.ModelSerializer[Payout]):
    publisher_name = serializers.CharField(
        source="publisher.name", read_only=True, help_text="The publisher's name."
    )
    period = serializers.SerializerMethodField(help_text="The month paid for, YYYY-MM.")
    # Declared so the schema's enum has "" (not held): read-only model fields lose allow_blank.
    hold_reason = serializers.ChoiceField(
        choices=Payout.HoldReason.choices,
        allow_blank=True,
        read_only=True,
        help_text="Why a held payout is not paid; empty unless held.",
    )
    amount = serializers.SerializerMethodField(
        help_text='Amount to pay in currency, a decimal string at its minor unit ("125.00", "1250" in JPY).'
    )

    class Meta:
        model = Payout
        fields = [
            "id", "run", "publisher", "publisher_name", "period", "currency", "amount", "payout_currency",
            "payout_amount", "fx_rate", "fx_rate_at", "status", "hold_reason", "method", "details",
            "payment_reference", "failure_reason", "created_at", "paid_at",
        ]  # fmt: skip
        read_only_fields = fields
        extra_kwargs = {"id": {"help_text": "Payout id."}}

    def get_period(self, payout: Payout) -> str:
        return f"{payout.period:%Y-%m}"

    payout_amount = serializers.SerializerMethodField(
        help_text="What is sent, in payout_currency, converted at fx_rate (in force at the period end)."
    )

    def get_amount(self, payout: Payout) -> str:
        return amount_text(payout.amount, payout.currency)

    def get_payout_amount(self, payout: Payout) -> str | None:
        if payout.payout_amount is None:
            return None
        return amount_text(payout.payout_amount, payout.payout_currency or payout.currency)


class PeriodInput(serializers.Serializer[Any]):
    period = serializers.CharField(help_text="YYYY-MM")


class PaymentInput(serializers.Serializer[Any]):
    payout = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="Id of an approved payout of the run."
    )
    reference = serializers.CharField(max_length=128, help_text="Bank, PayPal or other payment reference.")


class MarkRunPaidInput(serializers.Serializer[Any]):
    reference = serializers.CharField(max_length=128, required=False, help_text="For every approved payout.")
    payments = PaymentInput(many=True, required=False, help_text="A reference per payout.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("reference") and not attrs.get("payments"):
            raise serializers.ValidationError("Give reference or payments.", code="reference_required")
        payouts = [p["payout"] for p in attrs.get("payments", [])]
        if len(payouts) != len(set(payouts)):
            raise serializers.ValidationError("A payout is listed twice.", code="duplicate_payout")
        return attrs


class ReferenceInput(serializers.Serializer[Any]):
    reference = serializers.CharField(max_length=128, help_text="Bank, PayPal or other payment reference.")


class ReasonInput(serializers.Serializer[Any]):
    reason = serializers.CharField(
        max_length=255, help_text="Why the payment failed; shown to the publisher."
    )
