"""The advertiser's conversion target for an offer (the basis of the effect score), and its writes.

A setting the advertiser keeps on its offer, so it lives with the offer at the bottom: the offer
form saves it without reaching up, and the reports above read it. ``affiliates.models`` imports
the model so Django registers it here. The table kept its rows when the model moved here from
tracking (in the old migration history).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from affiliates.core.errors import DomainError


class OfferTarget(models.Model):
    """The advertiser's conversion target for an offer, the basis of the effect score."""

    class Period(models.TextChoices):
        DAY = "day"
        WEEK = "week"
        MONTH = "month"

    offer = models.OneToOneField(
        "affiliates.Offer",
        on_delete=models.CASCADE,
        related_name="target",
        help_text="The offer the target is for (also the key in the URL).",
    )
    period = models.CharField(
        max_length=8,
        choices=Period.choices,
        default=Period.MONTH,
        help_text=(
            "What the target counts per: day, week or month (30.4375 days); reports prorate it to their date"
            " range."
        ),
    )
    conversions = models.PositiveIntegerField(help_text="Target pending + approved conversions per period.")
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now, help_text="When it was last set.")

    class Meta:
        app_label = "affiliates"
        constraints = [
            models.CheckConstraint(condition=Q(conversions__gt=0), name="offertarget_conversions_gt_0"),
        ]

    def __str__(self) -> str:
        return f"Offer {self.offer_id} target: {self.conversions} conversions per {self.period}"


def offer_target_set(
    *,
    offer_id: int,
    conversions: int,
    period: str = OfferTarget.Period.MONTH,
    user: object | None = None,
) -> OfferTarget:
    """Set (or replace) the advertiser's conversion target for an offer."""
    if period not in OfferTarget.Period.values:
        raise DomainError(f"Period must be one of {', '.join(OfferTarget.Period.values)}.", code="bad_period")
    if conversions <= 0:
        raise DomainError("The target must be at least one conversion.", code="bad_target")
    target, _ = OfferTarget.objects.update_or_create(
        offer_id=offer_id,
        defaults={
            "conversions": conversions,
            "period": period,
            "updated_by": user if getattr(user, "pk", None) else None,
            "updated_at": timezone.now(),
        },
    )
    return target


def offer_target_clear(*, offer_id: int) -> bool:
    """Remove an offer's target; False when it had none."""
    deleted, _ = OfferTarget.objects.filter(offer_id=offer_id).delete()
    return bool(deleted)
