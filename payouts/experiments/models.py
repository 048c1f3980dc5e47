"""A/B test rollups and decisions, and the weekly budget shifts (tracking.models.abtests has
the tests and variants the click path reads).

Every decision and every applied shift keeps what it changed (``before``/``after``), so undo
restores exactly that; a status-guarded update makes undo happen once, and a partial unique
constraint keeps one standing decision per test and one shift per (advertiser, week, lever).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from affiliates.core.money import CurrencyField, MoneyField


class AbVariantDaily(models.Model):
    """Per variant and UTC day of the click: what the looks read, never the clicks table."""

    variant = models.ForeignKey("tracking.AbVariant", on_delete=models.CASCADE, related_name="daily")
    day = models.DateField()
    clicks = models.BigIntegerField(default=0)
    conversions = models.BigIntegerField(default=0, help_text="Clicks with an earning conversion.")
    currency = CurrencyField(blank=True)
    revenue = MoneyField(default=Decimal("0"))
    payout = MoneyField(default=Decimal("0"))
    # Sums of squares of the per-click values, for the variance of EPC and revenue per click.
    revenue_sq = models.FloatField(default=0.0)
    payout_sq = models.FloatField(default=0.0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["variant", "day"], name="abvariantdaily_unique")]


class AbDecision(models.Model):
    class Kind(models.TextChoices):
        PROMOTE = "promote", "Winner promoted"
        NO_WINNER = "no_winner", "No clear winner: the control kept"

    test = models.ForeignKey(
        "tracking.AbTest", on_delete=models.CASCADE, related_name="decisions", help_text="The test decided."
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, help_text="promote or no_winner.")
    winner = models.ForeignKey(
        "tracking.AbVariant",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The kept variant.",
    )
    automatic = models.BooleanField(default=False, help_text="Taken by the scheduled look, not a person.")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who promoted it; null: the scheduled look.",
    )
    numbers = models.JSONField(default=dict, help_text="The look it rests on: estimates, p-values, alpha.")
    before = models.JSONField(
        default=dict, help_text="Variant id -> [status, weight] before; the test's status."
    )
    after = models.JSONField(default=dict, help_text="Variant id -> [status, weight] after.")
    note = models.TextField(blank=True, help_text="What it did, in words.")
    created_at = models.DateTimeField(default=timezone.now, help_text="When it was taken.")
    undone_at = models.DateTimeField(null=True, blank=True, help_text="When it was undone; null: it stands.")
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["test"], condition=Q(undone_at__isnull=True), name="abdecision_one_standing"
            )
        ]

    def __str__(self) -> str:
        return f"A/B test {self.test_id} decision: {self.kind}"


class ShiftSettings(models.Model):
    """An advertiser's choices for the weekly budget shifts."""

    advertiser = models.OneToOneField(
        "affiliates.Advertiser", on_delete=models.CASCADE, related_name="shift_settings"
    )
    auto_apply = models.BooleanField(default=False, help_text="Apply each week's proposals automatically.")
    share = models.DecimalField(
        max_digits=3,
        decimal_places=2,
        default=Decimal("0.25"),
        validators=[MinValueValidator(Decimal("0.20")), MaxValueValidator(Decimal("0.30"))],
        help_text="The share of the bottom's cap or weight moved to the top (0.20-0.30).",
    )

    def __str__(self) -> str:
        return f"Budget shift settings of advertiser {self.advertiser_id}"


class BudgetShift(models.Model):
    """One proposal of a week: move ``share`` of the bottom's cap or weight to the top."""

    class Lever(models.TextChoices):
        PUBLISHER_CAP = "publisher_cap", "Publisher caps"
        PATH_WEIGHT = "path_weight", "Smart-link path weights"
        VARIANT_WEIGHT = "variant_weight", "Creative / landing-page weights"
        SUB_ID = "sub_id", "Sub ids (advice: no cap or weight to move)"

    class Status(models.TextChoices):
        PROPOSED = "proposed"
        APPLIED = "applied"
        UNDONE = "undone"
        ADVICE = "advice", "Advice only"

    advertiser = models.ForeignKey(
        "affiliates.Advertiser", on_delete=models.CASCADE, related_name="+", help_text="Whose budget."
    )
    week = models.DateField(help_text="The Monday of the week it was proposed for.")
    lever = models.CharField(max_length=16, choices=Lever.choices, help_text="What it moves.")
    scope = models.CharField(max_length=120, help_text="What it is within: an offer or a smart link.")
    bottom = models.CharField(max_length=255, help_text="The lowest effect score's object.")
    top = models.CharField(max_length=255, help_text="The highest effect score's object.")
    share = models.DecimalField(max_digits=3, decimal_places=2, help_text="The share of the bottom moved.")
    numbers = models.JSONField(default=dict, help_text="Effect scores and their inputs, per object.")
    changes = models.JSONField(default=dict, help_text="What applying it does: object -> [before, after].")
    status = models.CharField(
        max_length=8,
        choices=Status.choices,
        default=Status.PROPOSED,
        help_text="proposed, applied, undone or advice (nothing to apply).",
    )
    applied_at = models.DateTimeField(null=True, blank=True, help_text="When it was applied.")
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    undone_at = models.DateTimeField(null=True, blank=True, help_text="When it was undone.")
    created_at = models.DateTimeField(default=timezone.now, help_text="When it was proposed.")

    class Meta:
        ordering = ["-week", "lever", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["advertiser", "week", "lever", "scope"], name="budgetshift_once_a_week"
            )
        ]

    def __str__(self) -> str:
        return f"Budget shift of {self.lever}, week of {self.week}: {self.bottom} -> {self.top}"
