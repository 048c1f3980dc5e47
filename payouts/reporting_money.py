"""Multi-currency totals in one reporting currency, at the stored FX rates (payouts.fx).

A dashboard sums commissions per currency; people read one number. ``money_convert`` turns
{currency: amount} into the viewer's reporting currency at the rates in force at one moment
(the end of the range shown), keeps the per-currency breakdown for a ``<details>``, and rounds
once, here, through money_round. A currency without a stored rate is not guessed: the total is
then None and the breakdown says which rate is missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.conf import settings

from affiliates.core.money import money_round
from affiliates.models import Advertiser, Publisher
from payouts.fx import RateInForce, fx_rates_in_force

Rates = Mapping[tuple[str, str], RateInForce]


@dataclass(frozen=True)
class Converted:
    currency: str
    total: Decimal | None  # None: a rate is missing
    #: (currency, amount as stored, amount in ``currency`` unrounded or None, rate or None)
    parts: list[tuple[str, Decimal, Decimal | None, Decimal | None]] = field(default_factory=list)

    @property
    def missing(self) -> list[str]:
        return [cur for cur, _, converted, _ in self.parts if converted is None]

    @property
    def mixed(self) -> bool:
        """More than one currency, or one other than the reporting currency: worth a breakdown."""
        return any(cur != self.currency for cur, *_ in self.parts)


def network_currency() -> str:
    """The network's base currency (settings.REPORTING_CURRENCY)."""
    return str(settings.REPORTING_CURRENCY)


def reporting_currency_for(*, account: Advertiser | Publisher | None) -> str:
    """The currency a viewer reads totals in: their account's reporting currency, else the
    network's base currency (staff, who have no account, always read the network's)."""
    chosen = account.reporting_currency if account is not None else ""
    return chosen or network_currency()


def rates_at(*, at: datetime) -> Rates:
    """Every rate in force at ``at``, both directions (one query; pass it to money_convert
    for each total of a page)."""
    return fx_rates_in_force(at=at)


def money_convert(*, amounts: Mapping[str, Decimal | None], currency: str, rates: Rates) -> Converted:
    """``amounts`` ({currency: amount}) as one total in ``currency``, rounded once."""
    parts: list[tuple[str, Decimal, Decimal | None, Decimal | None]] = []
    total = Decimal(0)
    complete = True
    for cur, amount in sorted(amounts.items()):
        if amount is None:
            continue
        if cur == currency:
            parts.append((cur, amount, amount, Decimal(1)))
            total += amount
            continue
        found = rates.get((cur, currency))
        if found is None:
            parts.append((cur, amount, None, None))
            complete = False
            continue
        parts.append((cur, amount, amount * found.rate, found.rate))
        total += amount * found.rate
    return Converted(currency=currency, total=money_round(total, currency) if complete else None, parts=parts)


def money_ratio(converted: Converted, count: int | float | None) -> Decimal | None:
    """A converted total per unit (EPC, CPA), unrounded beyond four places: it is a rate."""
    if converted.total is None or not count:
        return None
    return (converted.total / Decimal(str(count))).quantize(Decimal("0.0001"))
