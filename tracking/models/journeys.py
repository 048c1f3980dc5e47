"""Journeys: each conversion's touches across publishers, and each touch's credit per model.

Filled by one job (payouts/journeys/services.py: ``journeys_refresh``, Celery beat and on
demand), read by the attribution reports, the participation report and the conversion trace;
no report scans raw clicks for them. A journey is the visitor's clicks on the offer (and its
impressions, where the offer enables view-through) within the offer's attribution window
before the conversion, linked by the conversion's click id chain (the reported click, the
clicks attribution looked at), the visitor key (stored IP and user agent, what the first-party
cookie stands for when a click is not reported), the coupon, and the advertiser's customer id
(hashed: the clicks behind the same customer's earlier conversions).

Credits are fractions of one conversion (they sum to 1 per journey, the last touch taking the
rounding); a touch's credited revenue or payout is its credit times the journey's. Revenue and
payout are copied from the conversion's commission when the job ran, so a report multiplies and
sums one table.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone

from affiliates.core.money import CurrencyField, MoneyField

#: The models every touch is credited under, in the order reports show them.
MODELS = ("last_click", "first_click", "linear", "position_based", "time_decay", "markov")


def CreditField(help_text: str) -> models.DecimalField[Any, Any]:
    return models.DecimalField(max_digits=13, decimal_places=10, default=0, help_text=help_text)


class TouchKind(models.TextChoices):
    CLICK = "click"
    IMPRESSION = "impression"
    COUPON = "coupon"


class TouchRole(models.TextChoices):
    INTRODUCER = "introducer", "Introducer (first touch)"
    INFLUENCER = "influencer", "Influencer (a middle touch)"
    CLOSER = "closer", "Closer (last touch)"


class Journey(models.Model):
    """One conversion's journey (valid conversions only: pending or approved)."""

    conversion = models.OneToOneField(
        "tracking.Conversion", on_delete=models.CASCADE, db_constraint=False, related_name="journey"
    )
    advertiser = models.ForeignKey("affiliates.Advertiser", on_delete=models.CASCADE, related_name="+")
    offer = models.ForeignKey("affiliates.Offer", on_delete=models.CASCADE, related_name="+")
    publisher = models.ForeignKey(
        "affiliates.Publisher", on_delete=models.CASCADE, related_name="+", help_text="The paid publisher."
    )
    converted_at = models.DateTimeField(help_text="When the conversion was recorded (UTC).")
    day = models.DateField(help_text="converted_at's UTC day.")
    currency = CurrencyField()
    revenue = MoneyField(default=0, help_text="The conversion's commission revenue when computed.")
    payout = MoneyField(default=0, help_text="The conversion's commission payout when computed.")
    view_through = models.BooleanField(
        default=False, help_text="Attributed to an impression with no click (kept apart in reports)."
    )
    touches = models.PositiveSmallIntegerField(default=1)
    publishers = models.PositiveSmallIntegerField(default=1, help_text="Distinct publishers touching.")
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["advertiser", "day"], name="journey_adv_day"),
            models.Index(fields=["day"], name="journey_day"),
        ]


class Touch(models.Model):
    """One touch of a journey, its role and its credit under each model."""

    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="touch_set")
    # Copies of the journey's keys: reports group touches without a join.
    advertiser = models.ForeignKey("affiliates.Advertiser", on_delete=models.CASCADE, related_name="+")
    offer = models.ForeignKey("affiliates.Offer", on_delete=models.CASCADE, related_name="+")
    day = models.DateField(help_text="The conversion's UTC day (reports are by conversion day).")
    currency = CurrencyField()
    revenue = MoneyField(default=0, help_text="The journey's revenue (credited revenue = credit x this).")
    payout = MoneyField(default=0, help_text="The journey's payout.")
    view_through = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(help_text="1 = first touch.")
    kind = models.CharField(max_length=16, choices=TouchKind.choices)
    at = models.DateTimeField(help_text="When the touch happened (the conversion's time for a coupon).")
    publisher = models.ForeignKey("affiliates.Publisher", on_delete=models.CASCADE, related_name="+")
    click_id = models.UUIDField(null=True, blank=True)
    impression_id = models.UUIDField(null=True, blank=True)
    sub1 = models.CharField(max_length=255, blank=True)
    source = models.CharField(max_length=255, blank=True)
    creative = models.CharField(
        max_length=255, blank=True, help_text="The creative, where the touch recorded one (empty otherwise)."
    )
    linked_by = models.CharField(
        max_length=16, help_text="How it joined the journey: click_id, visitor, customer, coupon, impression."
    )
    role = models.CharField(max_length=16, choices=TouchRole.choices)
    paid = models.BooleanField(default=False, help_text="The touch the conversion was paid through.")
    last_click = CreditField("1 on the last touch.")
    first_click = CreditField("1 on the first touch.")
    linear = CreditField("1/n on each touch.")
    position_based = CreditField("40% first, 40% last, 20% shared by the middle touches.")
    time_decay = CreditField("Halves for every 7 days between the touch and the conversion.")
    markov = CreditField("The journey split by each publisher's Markov removal effect.")

    class Meta:
        ordering = ["journey_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["journey", "position"], name="touch_unique_position"),
        ]
        indexes = [
            models.Index(fields=["advertiser", "day"], name="touch_adv_day"),
            models.Index(fields=["publisher", "day"], name="touch_pub_day"),
            models.Index(fields=["day"], name="touch_day"),
        ]


class JourneyRun(models.Model):
    """One pass of the journey job: what it covered, for reports' ``as_of``."""

    started_at = models.DateTimeField(default=timezone.now)
    as_of = models.DateTimeField(help_text="Conversions recorded before this instant are in.")
    window_start = models.DateTimeField(help_text="Journeys of conversions from here on were (re)computed.")
    journeys = models.PositiveIntegerField(default=0)
    assists = models.PositiveIntegerField(default=0, help_text="Assist commissions created.")
    seconds = models.FloatField(default=0)

    class Meta:
        ordering = ["-as_of", "-id"]


def _rollup_fields() -> dict[str, models.DecimalField[Any, Any]]:
    """Per model: its credited conversions (a sum of credits) and credited revenue and payout
    (sums of credit x the journey's amount, exact: 10 + 6 decimal places)."""
    fields: dict[str, models.DecimalField[Any, Any]] = {}
    for model in MODELS:
        fields[model] = models.DecimalField(max_digits=24, decimal_places=10, default=0)
        for amount in ("revenue", "payout"):
            fields[f"{model}_{amount}"] = models.DecimalField(max_digits=40, decimal_places=16, default=0)
    return fields


class AttributionDay(models.Model):
    """The touches of one conversion day summed per advertiser, offer, publisher, sub id,
    source, creative and currency: what the attribution comparison reads instead of touches.

    Written by the journey job in the transaction that replaces the window's touches (every
    day the window touches is summed again from tracking_touch), so it always equals them."""

    day = models.DateField()
    advertiser = models.ForeignKey("affiliates.Advertiser", on_delete=models.CASCADE, related_name="+")
    offer = models.ForeignKey("affiliates.Offer", on_delete=models.CASCADE, related_name="+")
    publisher = models.ForeignKey("affiliates.Publisher", on_delete=models.CASCADE, related_name="+")
    sub1 = models.CharField(max_length=255, blank=True)
    source = models.CharField(max_length=255, blank=True)
    creative = models.CharField(max_length=255, blank=True)
    currency = CurrencyField()
    view_through = models.BooleanField(default=False)
    locals().update(_rollup_fields())

    class Meta:
        indexes = [
            models.Index(fields=["day"], name="attribday_day"),
            models.Index(fields=["advertiser", "day"], name="attribday_adv_day"),
            models.Index(fields=["publisher", "day"], name="attribday_pub_day"),
        ]


class ParticipationDay(models.Model):
    """Per conversion day, advertiser, offer and publisher: the journeys the publisher touched
    and in which roles (distinct journeys: a journey has one day and offer, so these add up
    across days and offers), and its summed credits and credited money per model (the offer
    fixes the currency, so these rows also serve the comparison by publisher alone)."""

    day = models.DateField()
    advertiser = models.ForeignKey("affiliates.Advertiser", on_delete=models.CASCADE, related_name="+")
    offer = models.ForeignKey("affiliates.Offer", on_delete=models.CASCADE, related_name="+")
    publisher = models.ForeignKey("affiliates.Publisher", on_delete=models.CASCADE, related_name="+")
    currency = CurrencyField()
    view_through = models.BooleanField(default=False)
    touched = models.PositiveIntegerField(default=0)
    introducer = models.PositiveIntegerField(default=0)
    influencer = models.PositiveIntegerField(default=0)
    closer = models.PositiveIntegerField(default=0)
    locals().update(_rollup_fields())

    class Meta:
        indexes = [
            models.Index(fields=["day"], name="partday_day"),
            models.Index(fields=["advertiser", "day"], name="partday_adv_day"),
            models.Index(fields=["publisher", "day"], name="partday_pub_day"),
        ]


class AttributionCube(models.Model):
    """The two daily rollups above re-summed without the offer, per advertiser and publisher:
    what the comparison and participation reports read when no offer is chosen (nearly always),
    a tenth of the rows or fewer. ``dimension`` says what ``value`` holds: "" (the publisher
    alone; its rows also carry the participation counts, which add up across offers because a
    journey has one offer), "sub1", "source" or "creative".

    Written by the journey job right after the daily rollups of the same days, in the same
    transaction, from them (tracking.journeys.rollup)."""

    day = models.DateField()
    advertiser = models.ForeignKey("affiliates.Advertiser", on_delete=models.CASCADE, related_name="+")
    publisher = models.ForeignKey("affiliates.Publisher", on_delete=models.CASCADE, related_name="+")
    dimension = models.CharField(max_length=16, blank=True)
    value = models.CharField(max_length=255, blank=True)
    currency = CurrencyField()
    view_through = models.BooleanField(default=False)
    touched = models.PositiveIntegerField(default=0)
    introducer = models.PositiveIntegerField(default=0)
    influencer = models.PositiveIntegerField(default=0)
    closer = models.PositiveIntegerField(default=0)
    locals().update(_rollup_fields())

    class Meta:
        indexes = [
            models.Index(fields=["dimension", "day"], name="attribcube_dim_day"),
            models.Index(fields=["dimension", "advertiser", "day"], name="attribcube_dim_adv_day"),
            models.Index(fields=["dimension", "publisher", "day"], name="attribcube_dim_pub_day"),
        ]
