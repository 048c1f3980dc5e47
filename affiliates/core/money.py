"""Money primitives: currencies, the project-wide decimal shape, and the one rounding helper.

Amounts are ``Decimal`` with a currency beside them. Prices and sale amounts are stored with
six places so CPS percentages and CPM prices stay exact; a commission's revenue and payout are
rounded once, here, to the currency's minor unit (contract section 6).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache, partial
from typing import Any

import pycountry
from django.core.exceptions import ValidationError
from django.db import models

MONEY_DIGITS = 20
MONEY_PLACES = 6

# ISO 4217 minor units that differ from the usual two. pycountry does not ship exponents.
_MINOR_UNITS = {
    **dict.fromkeys(
        [
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "UYI",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ],
        0,
    ),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
    **dict.fromkeys(["CLF", "UYW"], 4),
}


@cache
def currency_codes() -> frozenset[str]:
    return frozenset(c.alpha_3 for c in pycountry.currencies)


def currency_is_valid(code: str) -> bool:
    return code in currency_codes()


def validate_currency(code: str) -> None:
    if not currency_is_valid(code):
        raise ValidationError(f"{code!r} is not an ISO 4217 currency code.", code="unknown_currency")


def minor_units(currency: str) -> int:
    return _MINOR_UNITS.get(currency, 2)


@cache
def _exponent(currency: str) -> Decimal:
    """The currency's minor unit as a quantize exponent (reports round thousands of cells: made
    once a currency)."""
    return Decimal(1).scaleb(-minor_units(currency))


def money_round(amount: Decimal, currency: str) -> Decimal:
    """Round once, half up, to the currency's minor unit. The only place money is rounded."""
    return amount.quantize(_exponent(currency), rounding=ROUND_HALF_UP)


def money_rounder(currency: str) -> Callable[[Decimal], Decimal]:
    """money_round for many amounts of one currency (a report's cells): the same rounding, with
    the currency's minor unit found once."""
    return partial(Decimal.quantize, exp=_exponent(currency), rounding=ROUND_HALF_UP)


def parse_amount(raw: str | None) -> Decimal | None:
    """Parse a wire amount ("12.50"). Returns None for absent; raises ValueError when malformed."""
    if raw is None or raw == "":
        return None
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation as exc:
        raise ValueError("bad_amount") from exc
    if not value.is_finite() or value < 0 or value.as_tuple().exponent < -MONEY_PLACES:  # type: ignore[operator]
        raise ValueError("bad_amount")
    if value.adjusted() >= MONEY_DIGITS - MONEY_PLACES:
        raise ValueError("bad_amount")
    return value


# Field[Any, Any]: the value type follows null=, which the plugin reads only on Field classes.
def MoneyField(**kwargs: object) -> models.DecimalField[Any, Any]:
    """The project-wide decimal shape for amounts, prices and percentages."""
    kwargs.setdefault("max_digits", MONEY_DIGITS)
    kwargs.setdefault("decimal_places", MONEY_PLACES)
    return models.DecimalField(**kwargs)  # type: ignore[arg-type]


def CurrencyField(**kwargs: object) -> models.CharField[Any, Any]:
    kwargs.setdefault("max_length", 3)
    kwargs.setdefault("validators", [validate_currency])
    return models.CharField(**kwargs)  # type: ignore[arg-type]


class MoneySum(models.Sum):
    """SUM of stored amounts. SQLite keeps decimals as floating point, so a sum of entries that
    balances exactly can come back as 3e-16; rounding the sum to the six stored places gives the
    exact figure back. This is storage precision, not money rounding (that is money_round)."""

    def __init__(self, expression: object, **extra: object) -> None:
        extra.setdefault("output_field", MoneyField())
        super().__init__(expression, **extra)  # type: ignore[arg-type]

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = self.as_sql(compiler, connection, **extra)
        return f"ROUND({sql}, {MONEY_PLACES})", params
