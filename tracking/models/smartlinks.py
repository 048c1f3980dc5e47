"""Smart links: one tracking link that routes each visitor to one of several paths.

A smart link belongs to one publisher (the one who places it) and has its own ``/c/{token}``
token, from the same generator as an offer access's. Each path is an offer (optionally one of
its landing pages) with targeting, a weight and a daily click cap; the catch-all path takes
what no other path accepts. The click path compiles all of it, with the weights, into the
link's cached snapshot (tracking/clickpath/links.py), so choosing a path is one weighted draw in
the edge's process. Each click records the path it got and why other paths were skipped
(``Click.smart_path_id``, ``Click.path_skips``).

Weights are manual, or set by the optimiser (payouts/smartlinks.py): Thompson sampling on a
KPI, read from ``SmartPathDaily`` rollups, with a floor share per path; or the conservative
mode, moving a share of the traffic from the losers to the winners once a week. Every run is
a ``SmartRun`` row with its inputs and the weights before and after.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from affiliates.core.money import CurrencyField, MoneyField
from affiliates.models import new_link_token
from affiliates.tracking_domains import tracking_base_url

WEIGHT_TOTAL = 10_000  # the optimiser writes weights that sum to this (basis points)


class SmartLink(models.Model):
    class Mode(models.TextChoices):
        MANUAL = "manual", "Manual weights"
        AUTO = "auto", "Optimised (Thompson sampling)"
        CONSERVATIVE = "conservative", "Conservative (weekly shift from losers to winners)"

    class Kpi(models.TextChoices):
        CVR = "cvr", "Conversion rate"
        EPC = "epc", "Earnings per click (publisher payout)"
        PROFIT = "profit", "Profit per click (revenue - payout)"
        RPC = "rpc", "Revenue per click"

    token = models.CharField(
        max_length=64, unique=True, default=new_link_token, editable=False, help_text="/c/{token}."
    )
    name = models.CharField(max_length=120, help_text="The link's name, for its owner.")
    publisher = models.ForeignKey(
        "affiliates.Publisher",
        on_delete=models.PROTECT,
        related_name="smart_links",
        help_text="The publisher who places the link and is credited with its clicks.",
    )
    advertiser = models.ForeignKey(
        "affiliates.Advertiser",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="smart_links",
        help_text="Set when an advertiser made the link: its paths are that advertiser's offers only.",
    )
    mode = models.CharField(
        max_length=16, choices=Mode.choices, default=Mode.MANUAL, help_text="Who sets the weights."
    )
    kpi = models.CharField(
        max_length=8,
        choices=Kpi.choices,
        default=Kpi.CVR,
        help_text="What the optimiser maximises, per click.",
    )
    floor_share = models.DecimalField(
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.05"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("0.3"))],
        help_text="The least share of traffic each live path keeps under optimisation (0.05 = 5 %).",
    )
    min_clicks = models.PositiveIntegerField(
        default=200, help_text="Clicks every live path needs in the look-back window before weights move."
    )
    lookback_days = models.PositiveSmallIntegerField(
        default=14,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text="Days of numbers the optimiser reads (never before learning_since).",
    )
    run_every_hours = models.PositiveSmallIntegerField(
        default=6,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 7)],
        help_text="How often the optimiser runs (conservative mode: at most once a week).",
    )
    shift_share = models.DecimalField(
        max_digits=3,
        decimal_places=2,
        default=Decimal("0.25"),
        validators=[MinValueValidator(Decimal("0.20")), MaxValueValidator(Decimal("0.30"))],
        help_text="Conservative mode: the share of the losers' traffic moved to the winners (0.20-0.30).",
    )
    sticky_hours = models.PositiveIntegerField(
        default=24, help_text="A returning visitor keeps their first path this long (0: no binding)."
    )
    fallback_url = models.URLField(
        max_length=2048, blank=True, help_text="Where a click goes when even the catch-all cannot take it."
    )
    learning_since = models.DateTimeField(
        default=timezone.now,
        help_text="Adding or removing a path resets learning: older numbers are ignored.",
    )
    last_run_at = models.DateTimeField(null=True, blank=True, help_text="The optimiser's last run.")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name

    @property
    def tracking_url(self) -> str:
        """On the publisher's (or the network's) verified tracking domain, else SITE_URL."""
        return f"{tracking_base_url(publisher_id=self.publisher_id, advertiser_id=None)}/c/{self.token}"


class SmartPath(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active"
        PAUSED = "paused"

    smart_link = models.ForeignKey(SmartLink, on_delete=models.CASCADE, related_name="paths")
    offer = models.ForeignKey("affiliates.Offer", on_delete=models.PROTECT, related_name="smart_paths")
    label = models.CharField(max_length=120, blank=True)
    landing_url = models.URLField(
        max_length=2048, blank=True, help_text="One of the offer's landing pages; blank: the offer's own."
    )
    weight = models.PositiveIntegerField(default=100, help_text="Relative share of the traffic.")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    is_catch_all = models.BooleanField(default=False, help_text="Takes the visitors no other path accepts.")
    countries = models.JSONField(default=list, blank=True, help_text="ISO 3166 alpha-2; empty: any.")
    devices = models.JSONField(default=list, blank=True, help_text="desktop, mobile, tablet; empty: any.")
    os = models.JSONField(default=list, blank=True, help_text="OS names as clicks record them; empty: any.")
    hours = models.JSONField(
        default=list, blank=True, help_text="UTC hours 0-23 the path runs; empty: all day."
    )
    daily_cap = models.PositiveIntegerField(null=True, blank=True, help_text="Clicks a UTC day; empty: none.")
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["smart_link"], condition=models.Q(is_catch_all=True), name="smartpath_one_catch_all"
            )
        ]

    def __str__(self) -> str:
        return self.label or f"path {self.pk}"


class SmartRun(models.Model):
    """One optimisation run: what it read, what it decided, and why."""

    class Outcome(models.TextChoices):
        APPLIED = "applied"
        LEARNING = "learning", "Not enough clicks yet"
        MANUAL = "manual", "Weights set by hand"
        RESET = "reset", "Learning reset (a path was added or removed)"

    smart_link = models.ForeignKey(SmartLink, on_delete=models.CASCADE, related_name="runs")
    ran_at = models.DateTimeField(default=timezone.now, help_text="When it ran.")
    mode = models.CharField(max_length=16, choices=SmartLink.Mode.choices, help_text="The link's mode then.")
    kpi = models.CharField(max_length=8, choices=SmartLink.Kpi.choices, help_text="The link's KPI then.")
    outcome = models.CharField(max_length=16, choices=Outcome.choices, help_text="What the run did.")
    inputs = models.JSONField(
        default=dict, help_text="Per path: clicks, conversions, revenue, payout, window."
    )
    weights_before = models.JSONField(default=dict, help_text="Path id -> weight before the run.")
    weights_after = models.JSONField(default=dict, help_text="Path id -> weight after the run.")
    note = models.TextField(blank=True, help_text="Why, in words.")

    class Meta:
        ordering = ["-ran_at", "-id"]


class SmartPathDaily(models.Model):
    """Per path and UTC day: the rollup the optimiser and the per-path stats read."""

    path = models.ForeignKey(SmartPath, on_delete=models.CASCADE, related_name="daily")
    day = models.DateField()
    clicks = models.BigIntegerField(default=0)
    conversions = models.BigIntegerField(default=0)
    currency = CurrencyField(blank=True, help_text="The path offer's currency; revenue and payout are in it.")
    revenue = MoneyField(default=Decimal("0"))
    payout = MoneyField(default=Decimal("0"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["path", "day"], name="smartpathdaily_unique")]
