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


_NO_THRESHOLD = Decimal(-1)


def _specificity(
    custom: CustomPayout, country: str, sale_amount: Decimal | None
) -> tuple[int, Decimal] | None:
    """Higher wins: goal + country > goal > offer + country > offer; within one of these, a
    sale-amount condition beats none and a higher threshold met beats a lower one. None: does
    not apply (another country, or a sale below the threshold or without an amount)."""
    if custom.countries and country not in custom.countries:
        return None
    threshold = custom.min_sale_amount
    if threshold is not None and (sale_amount is None or sale_amount < threshold):
        return None
    rank = (2 if custom.goal_id else 0) + (1 if custom.countries else 0)
    return rank, _NO_THRESHOLD if threshold is None else threshold


def has_sale_conditions(customs: list[CustomPayout]) -> bool:
    """Whether any of these custom payouts depends on the sale amount (pricing then goes per sale)."""
    return any(c.min_sale_amount is not None for c in customs)


def price_pick(
    *, goal: Goal, customs: list[CustomPayout], country: str = "", sale_amount: Decimal | None = None
) -> Price:
    """Pick the price from already-loaded custom payouts of this (offer, publisher).
    ``sale_amount`` is in the offer's currency (custom payouts' thresholds are)."""
    best: tuple[tuple[int, Decimal], int, CustomPayout] | None = None
    for custom in customs:
        if custom.goal_id not in (None, goal.id):
            continue
        rank = _specificity(custom, country, sale_amount)
        if rank is not None and (best is None or (rank, custom.id) > best[:2]):
            best = (rank, custom.id, custom)
    if best is None:
        return Price(goal.payout_type, goal.payout, goal.revenue, f"goal:{goal.id}")
    custom = best[2]
    revenue = custom.revenue if custom.revenue is not None else goal.revenue
    return Price(goal.payout_type, custom.payout, revenue, f"custom_payout:{custom.id}")


PAYOUT_EXCEEDS_REVENUE = "payout_exceeds_revenue"
PERCENT, AMOUNT = "percent", "amount"


class AmbiguousUnit(ValueError):
    """A custom payout for every goal of an offer whose goals mix percentages and amounts."""


def price_errors(*, payout: Decimal | None, revenue: Decimal | None, percent: bool) -> dict[str, str]:
    """The rules every price obeys, wherever it is entered (the API's serializers, the staff
    console's forms): amounts are zero or more; a percentage (CPS) is at most 100. They mirror
    the database's constraints, so a bad price is a field error, not an IntegrityError."""
    errors: dict[str, str] = {}
    for name, value in (("payout", payout), ("revenue", revenue)):
        if value is None:
            continue
        if value < 0:
            errors[name] = "Must be zero or more."
        elif percent and value > Decimal("100"):
            errors[name] = "A CPS percentage must be between 0 and 100."
    return errors


def price_warnings(*, payout: Decimal, revenue: Decimal | None) -> list[str]:
    """Warnings about a price (payout and revenue in one unit): the network would lose money on
    every action when the publisher earns more than the advertiser pays. Allowed (a network may
    subsidise a launch), but said out loud in the API, the portal and the admin."""
    return [PAYOUT_EXCEEDS_REVENUE] if revenue is not None and payout > revenue else []


def goal_warnings(goal: Goal) -> list[str]:
    return price_warnings(payout=goal.payout, revenue=goal.revenue)


def custom_payout_goals(custom: CustomPayout, goals: list[Goal]) -> list[Goal]:
    """The goals a custom payout prices: its goal, or every goal of its offer."""
    return [g for g in goals if custom.goal_id in (None, g.id)]


def custom_payout_warnings(custom: CustomPayout, goals: list[Goal]) -> list[str]:
    """A custom payout's warnings against each goal it prices (its revenue, or the goal's)."""
    for goal in custom_payout_goals(custom, goals):
        revenue = custom.revenue if custom.revenue is not None else goal.revenue
        if price_warnings(payout=custom.payout, revenue=revenue):
            return [PAYOUT_EXCEEDS_REVENUE]
    return []


def custom_payout_unit(*, goal: Goal | None, goals: list[Goal]) -> str:
    """``percent`` when the custom payout prices CPS goals (a percentage of the sale), ``amount``
    when it prices per-action goals (an amount per action, per 1000 for CPM). A custom payout for
    every goal of an offer that has both kinds has no single unit: AmbiguousUnit."""
    priced = [goal] if goal is not None else goals
    kinds = {PERCENT if g.is_percentage else AMOUNT for g in priced}
    if len(kinds) > 1:
        raise AmbiguousUnit(
            "This offer has percentage (CPS) and per-action goals: choose the goal this custom payout "
            "applies to, so that its payout is clearly a percentage or an amount."
        )
    return kinds.pop() if kinds else AMOUNT
