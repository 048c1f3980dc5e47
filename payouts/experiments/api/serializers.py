"""A/B test and budget-shift API shapes (inputs validated here, rules in the services)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from affiliates.core.db import MAX_ID, MAX_INT
from affiliates.models import Creative, Offer
from payouts.experiments.abtests import SETTINGS
from payouts.experiments.models import AbDecision, BudgetShift, ShiftSettings
from tracking.models import AbTest, AbVariant


class VariantInput(serializers.Serializer[Any]):
    label = serializers.CharField(max_length=80, help_text="A short name (A, B, blue button...).")  # type: ignore[assignment]
    landing_url = serializers.URLField(
        max_length=2048,
        required=False,
        default="",
        allow_blank=True,
        help_text="Macros allowed; blank: the offer's.",
    )
    creative = serializers.PrimaryKeyRelatedField(
        queryset=Creative.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text="Creative tests.",
    )
    weight = serializers.IntegerField(
        min_value=1, max_value=MAX_INT, default=100, help_text="Relative share of the traffic."
    )
    is_control = serializers.BooleanField(
        default=False, help_text="The variant the others are compared with."
    )


class AbTestInput(serializers.ModelSerializer[AbTest]):
    offer = serializers.PrimaryKeyRelatedField(
        queryset=Offer.objects.all(), help_text="The offer under test."
    )
    variants = VariantInput(
        many=True, help_text="2 to 5 variants; the first is the control unless one is marked."
    )
    preset = serializers.ChoiceField(
        choices=[("weekly", "2-3 variants a week, a daily look, keep the winner for a month")],
        required=False,
        help_text="Fills the stopping rule, duration, looks, keep time and auto-promotion.",
    )

    class Meta:
        model = AbTest
        fields = ("offer", "variants", "preset", *SETTINGS)


class VariantOutput(serializers.ModelSerializer[AbVariant]):
    # A URL template with macros ({click_id}), not a URI until the click fills it in.
    landing_url = serializers.CharField(read_only=True, help_text="Macros allowed; blank: the offer's.")

    class Meta:
        model = AbVariant
        fields = ("id", "label", "is_control", "landing_url", "creative", "weight", "status")
        extra_kwargs = {"id": {"help_text": "Unique identifier."}}


class DecisionOutput(serializers.ModelSerializer[AbDecision]):
    class Meta:
        model = AbDecision
        fields = (
            "id",
            "test",
            "kind",
            "winner",
            "automatic",
            "decided_by",
            "numbers",
            "before",
            "after",
            "note",
            "created_at",
            "undone_at",
        )
        extra_kwargs = {"id": {"help_text": "Unique identifier."}}


class AbTestOutput(serializers.ModelSerializer[AbTest]):
    variants = VariantOutput(many=True, read_only=True, help_text="The variants.")
    decisions = DecisionOutput(many=True, read_only=True, help_text="Every decision, newest first.")

    class Meta:
        model = AbTest
        fields = (
            "id", "offer", "status", "started_at", "keep_until", "looks_done", "alpha_spent", "last_look_at",
            "last_look", "variants", "decisions", *SETTINGS,
        )  # fmt: skip
        extra_kwargs = {
            "id": {"help_text": "Unique identifier."},
            "last_look": {
                "help_text": "Per variant: clicks, metric and its 95 % interval; p-values; the verdict."
            },
        }


class PromoteInput(serializers.Serializer[Any]):
    variant = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        allow_null=True,
        default=None,
        help_text="The variant to keep; omitted: the last look's winner.",
    )


class ShiftOutput(serializers.ModelSerializer[BudgetShift]):
    class Meta:
        model = BudgetShift
        fields = (
            "id", "advertiser", "week", "lever", "scope", "bottom", "top", "share", "numbers", "changes",
            "status",
            "applied_at", "undone_at", "created_at",
        )  # fmt: skip
        extra_kwargs = {"id": {"help_text": "Unique identifier."}}


class ShiftSettingsSerializer(serializers.ModelSerializer[ShiftSettings]):
    class Meta:
        model = ShiftSettings
        fields = ("auto_apply", "share")
        # A PUT sets both (the fuzzer found a PUT without them reaching the service: a 500).
        extra_kwargs = {"auto_apply": {"required": True}, "share": {"required": True}}
