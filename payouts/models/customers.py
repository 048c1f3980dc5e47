"""Customer value: who each (hashed) customer is, and what each cohort of customers was worth.

Filled by one job (payouts/reports/customers/services.py: ``customer_value_refresh``, Celery
beat nightly and on demand), read by the customer-value reports; no report reads raw
conversions for it. Customers are per advertiser (the hash is keyed per advertiser).

Ownership: the publisher (and traffic source) of a customer's **first** valid conversion with
the advertiser owns that customer for cohort purposes; later orders through other publishers
still count in that owner's cohort. Money is per currency (the offer's, as on commissions): a
customer counts once, in its first order's currency; its orders in another currency count in
that currency's row with no customer of their own.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from affiliates.core.money import CurrencyField, MoneyField

#: The cohort columns: days after a customer's first conversion, cumulated.
HORIZONS = (30, 60, 90, 180)


class Customer(models.Model):
    """A customer's first valid (pending or approved) conversion with the advertiser."""

    advertiser = models.ForeignKey("affiliates.Advertiser", on_delete=models.CASCADE, related_name="+")
    customer_hash = models.CharField(
        max_length=64, help_text="The customer id as the advertiser's keyed hash."
    )
    first_conversion = models.ForeignKey(
        "tracking.Conversion",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        help_text="The customer's first valid conversion: it made the customer new.",
    )
    first_at = models.DateTimeField(help_text="When that conversion was recorded (UTC).")
    cohort_month = models.DateField(help_text="First day of first_at's UTC month.")
    publisher = models.ForeignKey(
        "affiliates.Publisher",
        on_delete=models.CASCADE,
        related_name="+",
        help_text="The first conversion's publisher: owns the customer for cohorts.",
    )
    offer = models.ForeignKey("affiliates.Offer", on_delete=models.CASCADE, related_name="+")
    source_id = models.CharField(
        max_length=255, blank=True, help_text="The first conversion's traffic source."
    )
    currency = CurrencyField(help_text="The first conversion's offer currency.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["advertiser", "customer_hash"], name="customer_unique_hash"),
        ]
        indexes = [models.Index(fields=["first_at"], name="customer_first_at")]


class CohortRollup(models.Model):
    """Cohort month x advertiser x owning publisher x source x horizon x currency: what the
    customers first seen that month brought within ``horizon_days`` of their first conversion."""

    advertiser = models.ForeignKey("affiliates.Advertiser", on_delete=models.CASCADE, related_name="+")
    cohort_month = models.DateField(
        help_text="First day of the UTC month of the customers' first conversion."
    )
    publisher = models.ForeignKey("affiliates.Publisher", on_delete=models.CASCADE, related_name="+")
    source_id = models.CharField(max_length=255, blank=True)
    horizon_days = models.PositiveSmallIntegerField(help_text="30, 60, 90 or 180.")
    currency = CurrencyField()
    customers = models.PositiveIntegerField(default=0, help_text="Customers of the cohort (new customers).")
    orders = models.PositiveIntegerField(
        default=0, help_text="Valid conversions within the horizon, first included."
    )
    revenue = MoneyField(default=0, help_text="Revenue of those orders (what the advertiser owes).")
    payout = MoneyField(default=0, help_text="Payout of those orders (what publishers earn).")
    sale_amount = MoneyField(default=0, help_text="Sale amounts of those orders (what the customers spent).")
    acquisition_revenue = MoneyField(
        default=0,
        help_text="Revenue of the customers' first orders only: the advertiser's cost to acquire them.",
    )
    acquisition_payout = MoneyField(
        default=0, help_text="Payout of the customers' first orders only: the network's cost to acquire them."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["advertiser", "cohort_month", "publisher", "source_id", "horizon_days", "currency"],
                name="cohortrollup_unique_key",
            ),
        ]
        indexes = [models.Index(fields=["cohort_month"], name="cohortrollup_month")]


class CustomerMixRollup(models.Model):
    """Valid conversions per UTC day x advertiser x publisher x source that came from a new or a
    returning customer (as reported, else derived: the customer's first conversion is new)."""

    advertiser = models.ForeignKey("affiliates.Advertiser", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    publisher = models.ForeignKey("affiliates.Publisher", on_delete=models.CASCADE, related_name="+")
    source_id = models.CharField(max_length=255, blank=True)
    new_orders = models.PositiveIntegerField(default=0)
    returning_orders = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["advertiser", "day", "publisher", "source_id"], name="customermix_unique_key"
            ),
        ]
        indexes = [models.Index(fields=["day"], name="customermix_day")]


class CustomerValueRun(models.Model):
    """One pass of the job: what it covered, for reports' ``as_of`` and for operators."""

    started_at = models.DateTimeField(default=timezone.now)
    as_of = models.DateTimeField(help_text="Conversions recorded before this instant are counted.")
    window_start = models.DateTimeField(
        null=True, blank=True, help_text="Recomputed from here on; null: from the beginning (a full pass)."
    )
    customers = models.PositiveIntegerField(default=0, help_text="Customer rows (re)written.")
    seconds = models.FloatField(default=0)

    class Meta:
        ordering = ["-as_of", "-id"]
