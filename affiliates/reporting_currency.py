"""Which currencies an account may read its dashboards and reports in, and setting one.

Totals are converted at the stored FX rates (payouts.reporting_money), so a reporting currency
is worth choosing only if there are rates to convert into it: the network's base currency
(settings.REPORTING_CURRENCY) or a currency of some stored FX rate. Anything else is refused
with a reason code (``unknown_currency``: not ISO 4217; ``no_fx_rate``: no rate to convert
into it), by the portal's settings page and the API alike. Blank means the network's base.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Q

from affiliates.core.errors import DomainError
from affiliates.core.money import currency_is_valid
from affiliates.models import Advertiser, FxRate, Publisher
from affiliates.services import instance_update


class ReportingCurrencyRefused(DomainError):
    code = "bad_reporting_currency"


def reporting_currencies() -> list[str]:
    """The currencies with rates: the network's base and every currency of a stored rate."""
    rows = FxRate.objects.values_list("base", "quote").distinct().order_by()
    found = {code for pair in rows for code in pair}
    return sorted(found | {str(settings.REPORTING_CURRENCY)})


def reporting_currency_check(currency: str) -> str:
    """``currency`` normalised (upper case, blank kept), or ReportingCurrencyRefused."""
    code = (currency or "").strip().upper()
    if not code:
        return ""
    if not currency_is_valid(code):
        raise ReportingCurrencyRefused(
            f"{code[:10]!r} is not an ISO 4217 currency code.", code="unknown_currency"
        )
    if code == str(settings.REPORTING_CURRENCY):
        return code
    if not FxRate.objects.filter(Q(base=code) | Q(quote=code)).exists():
        choices = ", ".join(reporting_currencies())
        raise ReportingCurrencyRefused(
            f"No stored exchange rate converts into {code}, so totals could not be shown in it. "
            f"Choose one of {choices}.",
            code="no_fx_rate",
        )
    return code


def reporting_currency_set(*, account: Advertiser | Publisher, currency: str) -> Advertiser | Publisher:
    """Set the account's reporting currency (checked); blank: the network's base currency."""
    return instance_update(instance=account, reporting_currency=reporting_currency_check(currency))
