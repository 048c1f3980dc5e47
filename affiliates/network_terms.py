"""The network's minimum payout: the floor under every publisher's own threshold.

Staff set it (admin, or ``PUT /api/v1/network-terms/``); a publisher saving a lower minimum
is refused with ``below_network_minimum``, and the payout run uses the higher of the two, so a
threshold saved before the floor was raised cannot slip under it either.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from affiliates.core.errors import DomainError
from affiliates.core.money import currency_is_valid, money_round
from affiliates.models import FxRate, NetworkTerms


def network_terms_get() -> NetworkTerms:
    terms, _ = NetworkTerms.objects.get_or_create(pk=1)
    return terms


@transaction.atomic
def network_terms_set(*, minimum_payout: Decimal, currency: str) -> NetworkTerms:
    if not currency_is_valid(currency):
        raise DomainError(f"{currency!r} is not an ISO 4217 currency code.", code="unknown_currency")
    if minimum_payout < 0:
        raise DomainError("The minimum payout is zero or more.", code="out_of_range")
    terms = NetworkTerms.objects.select_for_update().get_or_create(pk=1)[0]
    terms.minimum_payout = money_round(minimum_payout, currency)
    terms.minimum_payout_currency = currency
    terms.updated_at = timezone.now()
    terms.save()
    return terms


def network_floor_in(currency: str, *, at: datetime | None = None) -> Decimal | None:
    """The floor expressed in ``currency`` at the rate in force at ``at`` (now); None without a rate.

    Unrounded: it is a threshold compared with money, and rounding it would move it."""
    terms = network_terms_get()
    if terms.minimum_payout == 0 or terms.minimum_payout_currency == currency:
        return Decimal(terms.minimum_payout)
    rate = _rate(terms.minimum_payout_currency, currency, at or timezone.now())
    return None if rate is None else terms.minimum_payout * rate


def publisher_minimum_check(*, minimum_payout: Decimal, currency: str) -> None:
    """Refuse a publisher's minimum below the network's floor (400 ``below_network_minimum``)."""
    floor = network_floor_in(currency)
    if floor is not None and minimum_payout < floor:
        raise DomainError(
            f"The network's minimum payout is {money_round(floor, currency)} {currency}; "
            "choose that or more.",
            code="below_network_minimum",
        )


def _rate(base: str, quote: str, at: datetime) -> Decimal | None:
    direct = FxRate.objects.filter(base=base, quote=quote, valid_from__lte=at).order_by("-valid_from").first()
    if direct:
        return direct.rate
    inverse = (
        FxRate.objects.filter(base=quote, quote=base, valid_from__lte=at).order_by("-valid_from").first()
    )
    return Decimal("1") / inverse.rate if inverse else None
