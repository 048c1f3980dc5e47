"""Payout runs: once per period, a payout per (publisher, currency) of the approved balance."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from payouts.money import CurrencyField, MoneyField


class PayoutRun(models.Model):
    class Status(models.TextChoices):
        BUILDING = "building"
        DRAFT = "draft"
        APPROVED = "approved"
        PAID = "paid"

    period = models.DateField(unique=True, help_text="First day of the month paid for.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.BUILDING)
    task_id = models.CharField(max_length=64, blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    paid_at = models.DateTimeField(null=True, blank=True)

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

    run = models.ForeignKey(PayoutRun, on_delete=models.PROTECT, related_name="payouts")
    publisher = models.ForeignKey("affiliates.Publisher", on_delete=models.PROTECT, related_name="payouts")
    period = models.DateField()
    currency = CurrencyField()
    amount = MoneyField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    method = models.CharField(max_length=16, blank=True)
    details = models.JSONField(default=dict, blank=True, help_text="Payout details as they were at the run.")
    payment_reference = models.CharField(max_length=128, blank=True)
    failure_reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run_id", "publisher_id", "currency"]
        constraints = [
            models.UniqueConstraint(
                fields=["publisher", "period", "currency"], name="payout_once_per_period"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payout_amount_gt_0"),
        ]
