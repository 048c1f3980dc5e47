"""Holdout incrementality tests: a share of an offer's visitors is held out of the
publisher's promotion, so the difference in conversion rate between the arms measures what
the publishers truly add.

The click path reads a running test from the link's snapshot (tracking/clickpath/holdout.py):
each visitor is assigned an arm by a deterministic hash of a stable visitor key, recorded on
the click (``Click.holdout_test_id``, ``Click.holdout_arm``); a held-out visitor goes to the
control destination. Their conversions are recorded and attributed, rejected with reason
``holdout_control`` so that they earn nothing (tracking/conversions/services.py), and counted
by the report (payouts/incrementality/).

At most one test runs per offer (a partial unique constraint), so a click's test is never
ambiguous and the snapshot carries one rule.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone


class HoldoutArm(models.TextChoices):
    NONE = "", "Not in a test"
    EXPOSED = "exposed", "Exposed (sent to the offer as usual)"
    CONTROL = "control", "Held out (sent to the control destination)"


class HoldoutTest(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running"
        STOPPED = "stopped"

    class Control(models.TextChoices):
        LANDING = "landing", "The offer's landing page without the publisher's promotion"
        NEUTRAL = "neutral", "A neutral page the advertiser chooses"

    class Stopping(models.TextChoices):
        END_DATE = "end_date", "At the end date only"
        SEQUENTIAL = "sequential", "At the end date, or earlier once a sequential test is clear"

    class StopReason(models.TextChoices):
        NONE = "", "Not stopped"
        END_DATE = "end_date", "Reached its end date"
        SEQUENTIAL = "sequential", "The sequential rule found a clear answer"
        MANUAL = "manual", "Stopped by hand"

    offer = models.ForeignKey(
        "affiliates.Offer",
        on_delete=models.PROTECT,
        related_name="holdout_tests",
        help_text="The offer tested.",
    )
    name = models.CharField(max_length=120, help_text="A name for the test.")
    publishers = models.ManyToManyField(
        "affiliates.Publisher",
        blank=True,
        related_name="+",
        help_text="The publishers whose traffic is tested; none: every publisher of the offer.",
    )
    holdout_share = models.DecimalField(
        max_digits=4,
        decimal_places=3,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("0.5"))],
        help_text="Share of visitors held out (0.01 to 0.5).",
    )
    starts_at = models.DateTimeField(help_text="When assignment starts (UTC).")
    ends_at = models.DateTimeField(help_text="When the test stops at the latest (UTC).")
    control = models.CharField(
        max_length=16,
        choices=Control.choices,
        default=Control.LANDING,
        help_text="Where held-out visitors go.",
    )
    control_url = models.URLField(
        max_length=1024, blank=True, help_text="The neutral page (control 'neutral'); {click_id} is replaced."
    )
    stopping = models.CharField(
        max_length=16,
        choices=Stopping.choices,
        default=Stopping.SEQUENTIAL,
        help_text="end_date: run to the end; sequential: also stop once the answer is clear (hourly).",
    )
    minimum_lift = models.DecimalField(
        max_digits=5,
        decimal_places=3,
        default=Decimal("0.100"),
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("10"))],
        help_text="The smallest relative lift worth detecting (0.10: 10 %); the power analysis plans for it.",
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.RUNNING, help_text="running or stopped."
    )
    stopped_at = models.DateTimeField(null=True, blank=True, help_text="When it stopped; null while running.")
    stop_reason = models.CharField(
        max_length=16,
        choices=StopReason.choices,
        blank=True,
        default="",
        help_text="end_date, sequential or manual; empty while running.",
    )
    # The report when it stopped (payouts/incrementality/report.py), so the result page and
    # the notification say the same thing whatever arrives later.
    result = models.JSONField(default=dict, blank=True, help_text="The report when it stopped.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who started it.",
    )
    created_at = models.DateTimeField(default=timezone.now, help_text="When it was set up.")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["offer"], condition=Q(status="running"), name="holdout_one_running_per_offer"
            ),
            models.CheckConstraint(
                condition=Q(holdout_share__gte=Decimal("0.01")) & Q(holdout_share__lte=Decimal("0.5")),
                name="holdout_share_range",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="holdout_ends_after_start"
            ),
            models.CheckConstraint(
                condition=~Q(control="neutral") | ~Q(control_url=""), name="holdout_neutral_has_url"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (offer {self.offer_id})"
