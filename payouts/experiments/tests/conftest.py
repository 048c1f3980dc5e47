"""A/B test fixtures: a test of Acme's shoes offer with its variants, and rollup days."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from affiliates.roles import Actor, Role
from payouts.experiments import abtests
from payouts.experiments.models import AbVariantDaily
from tracking.models import AbTest, AbVariant

STAFF = Actor(role=Role.STAFF)


def make_test(offer: Any, *, labels: tuple[str, ...] = ("A", "B"), **fields: Any) -> AbTest:
    specs = [
        abtests.VariantSpec(
            label=label, landing_url=f"https://shoes.example.com/{label.lower()}?cid={{click_id}}"
        )
        for label in labels
    ]
    fields = {"name": "Hero image", "hypothesis": "A bigger hero image converts better.", **fields}
    return abtests.ab_test_create(actor=STAFF, offer=offer, variants=specs, **fields)


def day_row(
    variant: AbVariant, day: date, clicks: int, conversions: int, value: Decimal = Decimal("0")
) -> None:
    """One day of a variant's rollup (each conversion worth ``value`` in revenue and payout)."""
    AbVariantDaily.objects.create(
        variant=variant,
        day=day,
        clicks=clicks,
        conversions=conversions,
        currency="USD",
        revenue=value * conversions,
        payout=value * conversions,
        revenue_sq=float(value) ** 2 * conversions,
        payout_sq=float(value) ** 2 * conversions,
    )
