"""Exchange rates. A sale in another currency is converted at the rate in force at the
conversion's time: the latest row with valid_from <= that time."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from payouts.money import CurrencyField


class FxRate(models.Model):
    base = CurrencyField(help_text="1 unit of this currency...")
    quote = CurrencyField(help_text="...is worth `rate` of this one.")
    rate = models.DecimalField(
        max_digits=20,
        decimal_places=10,
        help_text="Units of quote one unit of base is worth; positive, up to 10 decimal places.",
    )
    valid_from = models.DateTimeField(
        default=timezone.now,
        help_text=(
            "In force from this time until the pair's next rate: an amount is converted at the rate in force"
            " at its conversion's time."
        ),
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False, help_text="When it was entered.")

    class Meta:
        ordering = ["base", "quote", "-valid_from"]
        verbose_name = "FX rate"
        constraints = [
            models.UniqueConstraint(fields=["base", "quote", "valid_from"], name="fx_unique_pair_time"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="fx_rate_gt_0"),
            models.CheckConstraint(condition=~Q(base=models.F("quote")), name="fx_distinct_pair"),
        ]

    def __str__(self) -> str:
        return f"{self.base}/{self.quote} {self.rate} from {self.valid_from:%Y-%m-%d}"
