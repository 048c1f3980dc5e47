"""A/B tests of an offer's landing pages or creatives: the variants the click path splits by.

The click path (tracking/clickpath/abvariants.py) reads a running or decided test's variants
from the offer's link snapshot and sends each visitor to one of them, by weight, sticky per
visitor; the click records its variant (``Click.ab_variant_id``). The statistics, the looks,
the decisions and their undo live in payouts/experiments, which reads per-variant rollups.

A decided test keeps routing: the winner takes every click (the losers are paused) until the
advertiser ends the test or starts the next one (``keep_until`` says when that is due).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone


class AbTest(models.Model):
    class Kind(models.TextChoices):
        LANDING = "landing", "Landing pages"
        CREATIVE = "creative", "Creatives"

    class Metric(models.TextChoices):
        CVR = "cvr", "Conversion rate"
        EPC = "epc", "Earnings per click (publisher payout)"
        RPC = "rpc", "Revenue per click"

    class StoppingRule(models.TextChoices):
        FIXED = "fixed", "Fixed horizon, Bonferroni across the planned looks"
        SEQUENTIAL = "sequential", "Sequential, O'Brien-Fleming alpha spending"

    class Status(models.TextChoices):
        DRAFT = "draft"
        RUNNING = "running"
        DECIDED = "decided", "Decided (the winner takes the traffic)"
        ENDED = "ended", "Ended (no winner, or closed)"

    offer = models.ForeignKey(
        "affiliates.Offer",
        on_delete=models.CASCADE,
        related_name="ab_tests",
        help_text="The offer under test.",
    )
    name = models.CharField(max_length=120, help_text="The test's name.")
    kind = models.CharField(
        max_length=10, choices=Kind.choices, default=Kind.LANDING, help_text="landing or creative."
    )
    hypothesis = models.TextField(help_text="What you expect and why, in a sentence or two.")
    metric = models.CharField(
        max_length=4, choices=Metric.choices, default=Metric.CVR, help_text="The primary metric, per click."
    )
    stopping_rule = models.CharField(
        max_length=10,
        choices=StoppingRule.choices,
        default=StoppingRule.FIXED,
        help_text="fixed or sequential.",
    )
    alpha = models.DecimalField(
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.05"),
        validators=[MinValueValidator(Decimal("0.001")), MaxValueValidator(Decimal("0.2"))],
        help_text="The overall false-positive rate across every look and comparison.",
    )
    min_sample = models.PositiveIntegerField(
        default=500,
        validators=[MinValueValidator(50)],
        help_text="Clicks per variant before any look decides.",
    )
    max_sample = models.PositiveIntegerField(
        default=5000, help_text="Clicks per variant at the horizon: the last look decides, winner or not."
    )
    max_looks = models.PositiveSmallIntegerField(
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text="Planned looks (at most one a day); fixed horizon: alpha is split across them.",
    )
    duration_days = models.PositiveSmallIntegerField(
        default=7, validators=[MinValueValidator(1), MaxValueValidator(90)], help_text="The planned run."
    )
    keep_winner_days = models.PositiveSmallIntegerField(
        default=30, help_text="How long the winner runs alone before the next test."
    )
    auto_promote = models.BooleanField(
        default=False, help_text="Promote a clear winner automatically (otherwise: one click)."
    )
    status = models.CharField(
        max_length=8,
        choices=Status.choices,
        default=Status.DRAFT,
        help_text="draft, running, decided or ended.",
    )
    started_at = models.DateTimeField(null=True, blank=True, help_text="When it started splitting clicks.")
    keep_until = models.DateTimeField(
        null=True, blank=True, help_text="Decided: the winner runs alone until."
    )
    looks_done = models.PositiveSmallIntegerField(default=0, help_text="Looks taken so far.")
    alpha_spent = models.DecimalField(
        max_digits=8, decimal_places=6, default=Decimal("0"), help_text="Alpha used by the looks so far."
    )
    last_look_at = models.DateTimeField(null=True, blank=True, help_text="When the last look was taken.")
    last_look = models.JSONField(default=dict, blank=True, help_text="The last look's numbers and verdict.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # The click path splits an offer's traffic by one test at a time.
            models.UniqueConstraint(
                fields=["offer"],
                condition=Q(status__in=["running", "decided"]),
                name="abtest_one_live_per_offer",
            ),
            models.CheckConstraint(
                condition=Q(max_sample__gte=models.F("min_sample")), name="abtest_sample_order"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class AbVariant(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active"
        PAUSED = "paused"

    test = models.ForeignKey(AbTest, on_delete=models.CASCADE, related_name="variants", help_text="The test.")
    label = models.CharField(max_length=80, help_text="A short name (A, B, blue button...).")
    is_control = models.BooleanField(default=False, help_text="The variant the others are compared with.")
    landing_url = models.URLField(
        max_length=2048,
        blank=True,
        help_text="The landing page, with the link's macros ({click_id}, {sub1}...); blank: the offer's own. "
        "{variant_id} and {creative_id} are filled in too.",
    )
    creative = models.ForeignKey(
        "affiliates.Creative",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ab_variants",
        help_text="A creative test: the creative this variant stands for.",
    )
    weight = models.PositiveIntegerField(default=100, help_text="Relative share of the traffic.")
    status = models.CharField(
        max_length=8,
        choices=Status.choices,
        default=Status.ACTIVE,
        help_text="A paused variant gets no clicks.",
    )
    position = models.PositiveSmallIntegerField(default=0, help_text="Order on the page.")

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["test"], condition=Q(is_control=True), name="abvariant_one_control"
            ),
        ]

    def __str__(self) -> str:
        return self.label
