"""Payout runs: once per period, a payout per (publisher, currency) of the approved balance."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from affiliates.core.money import CurrencyField, MoneyField


class PayoutRun(models.Model):
    class Status(models.TextChoices):
        BUILDING = "building"
        DRAFT = "draft"
        APPROVED = "approved"
        PAID = "paid"

    period = models.DateField(unique=True, help_text="First day of the month paid for.")
    status = models.CharField(
        max_length=16,
        choices=Status.choices,
        default=Status.BUILDING,
        help_text=(
            "building (payouts being computed, see progress), draft (to review), approved (to send), paid "
            "(every payout marked paid or failed)."
        ),
    )
    task_id = models.CharField(
        max_length=64, blank=True, help_text="Celery task building the run; empty when built inline."
    )
    progress_done = models.PositiveIntegerField(
        default=0, help_text="Publishers with a balance processed so far while building."
    )
    progress_total = models.PositiveIntegerField(
        default=0, help_text="Publishers with a balance to pay (owed minus covered above zero) to process."
    )
    created_at = models.DateTimeField(default=timezone.now, help_text="When the run was started.")
    approved_at = models.DateTimeField(
        null=True, blank=True, help_text="When staff approved it; null until then."
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Staff user who approved it.",
    )
    paid_at = models.DateTimeField(
        null=True, blank=True, help_text="When it was marked paid; null until then."
    )

    class Meta:
        ordering = ["-period"]

    def __str__(self) -> str:
        return f"Payout run {self.period:%Y-%m}"


class Payout(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft"
        APPROVED = "approved"
        PAID = "paid"
        FAILED = "failed"
        HELD = "held"

    run = models.ForeignKey(
        PayoutRun,
        on_delete=models.PROTECT,
        related_name="payouts",
        help_text="The payout run that created it.",
    )
    publisher = models.ForeignKey(
        "affiliates.Publisher", on_delete=models.PROTECT, related_name="payouts", help_text="Publisher paid."
    )
    period = models.DateField()
    currency = CurrencyField(help_text="ISO 4217 code of the amount; one payout per publisher and currency.")
    amount = MoneyField()
    status = models.CharField(
        max_length=16,
        choices=Status.choices,
        default=Status.DRAFT,
        help_text=(
            "draft, approved (with its run), paid, failed (the amount returns to the next run) or held "
            "(see hold_reason; never paid, the amount returns to the next run)."
        ),
    )

    class HoldReason(models.TextChoices):
        NO_PAYOUT_DETAILS = "no_payout_details", "No payout details on file"
        PUBLISHER_SUSPENDED = "publisher_suspended", "Publisher suspended or rejected"
        NO_FX_RATE = "no_fx_rate", "No FX rate to the payout currency"

    hold_reason = models.CharField(
        max_length=32,
        blank=True,
        choices=HoldReason.choices,
        help_text="Why a held payout is not paid: no_payout_details, publisher_suspended, no_fx_rate.",
    )
    # What is sent: ``amount`` (the ledger's currency) in the publisher's payout currency, at the
    # rate in force at the period end, stored so the payment never depends on a later rate.
    payout_currency = CurrencyField(
        blank=True, default="", help_text="The publisher's payout currency at the run: what is sent."
    )
    fx_rate = models.DecimalField(
        max_digits=20,
        decimal_places=10,
        null=True,
        blank=True,
        help_text="payout_currency per unit of currency, in force at the period end; 1 when the same.",
    )
    fx_rate_at = models.DateTimeField(
        null=True, blank=True, help_text="When that rate came into force (at or before the period end)."
    )
    payout_amount = MoneyField(
        null=True, blank=True, help_text="amount x fx_rate, rounded to payout_currency: the sum sent."
    )
    method = models.CharField(
        max_length=16,
        blank=True,
        help_text="The publisher's payout method at the run (wire, paypal, ach, sepa, crypto, check).",
    )
    details = models.JSONField(default=dict, blank=True, help_text="Payout details as they were at the run.")
    payment_reference = models.CharField(
        max_length=128, blank=True, help_text="Bank, PayPal or other reference given when it was marked paid."
    )
    failure_reason = models.CharField(
        max_length=255, blank=True, help_text="Why the payment failed; empty otherwise."
    )
    created_at = models.DateTimeField(default=timezone.now, help_text="When the run created it.")
    paid_at = models.DateTimeField(
        null=True, blank=True, help_text="When it was marked paid; null until then."
    )

    class Meta:
        ordering = ["run_id", "publisher_id", "currency"]
        constraints = [
            models.UniqueConstraint(
                fields=["publisher", "period", "currency"], name="payout_once_per_period"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payout_amount_gt_0"),
            models.CheckConstraint(
                condition=~Q(status="held") | ~Q(hold_reason=""), name="payout_held_has_reason"
            ),
        ]

    def __str__(self) -> str:
        # Ids, not related names: the audit log renders every saved payout (no extra query).
        return (
            f"Payout #{self.pk} {self.period:%Y-%m} publisher {self.publisher_id}: "
            f"{self.amount} {self.currency} ({self.status})"
        )
