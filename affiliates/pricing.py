"""What a goal pays a publisher and costs an advertiser, custom payouts included.

Used when a conversion is attributed (for payout and revenue caps, and the trace) and when
payouts' reconciliation creates commissions, so both always agree on the price.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from affiliates.models import CustomPayout, Goal


@dataclass(frozen=True)
class Price:
    payout_type: str
    payout: Decimal  # amount per action (per 1000 for cpm), or percent for cps
    revenue: Decimal
    source: str  # "goal:<id>" or "custom_payout:<id>", for the trace and the statement

    @property
    def is_percentage(self) -> bool:
        return self.payout_type == Goal.PayoutType.CPS

    def amounts(self, sale_amount: Decimal | None) -> tuple[Decimal, Decimal]:
        """Exact (unrounded) payout and revenue for one action. Rounding happens once, later,
        in affiliates.core.money.money_round, when the commission is created."""
        if self.is_percentage:
            base = sale_amount or Decimal("0")
            return base * self.payout / 100, base * self.revenue / 100
        return self.payout, self.revenue


def _specificity(custom: CustomPayout, country: str) -> int | None:
    """Higher wins: goal + country > goal > offer + country > offer. None: does not apply."""
    if custom.countries and country not in custom.countries:
        return None
    return (2 if custom.goal_id else 0) + (1 if custom.countries else 0)


def price_pick(*, goal: Goal, customs: list[CustomPayout], country: str = "") -> Price:
    """Pick the price from already-loaded custom payouts of this (offer, publisher)."""
    best: tuple[int, int, CustomPayout] | None = None
    for custom in customs:
        if custom.goal_id not in (None, goal.id):
            continue
        rank = _specificity(custom, country)
        if rank is not None and (best is None or (rank, custom.id) > best[:2]):
            best = (rank, custom.id, custom)
    if best is None:
        return Price(goal.payout_type, goal.payout, goal.revenue, f"goal:{goal.id}")
    custom = best[2]
    revenue = custom.revenue if custom.revenue is not None else goal.revenue
    return Price(goal.payout_type, custom.payout, revenue, f"custom_payout:{custom.id}")
