"""The money a document states beside its lines: totals per currency, the FX rates that express
them in the customer's currency, and domestic VAT. Computed once, at issue, and frozen on the
document (payouts/documents.py writes them).

FX. An invoice or statement converts at the rates in force at its period's end. A credit note
takes back what an invoice billed, so it converts each amount at the rate *that invoice* used:
the customer's books then cancel to the cent. Where the invoice used no rate for a currency
(it was billed in the customer's own currency then, or no rate existed), the credit note uses
the rate in force at its own period end and says so, per rate, in ``basis``.

VAT. When the issuer and the customer are in the same country, the supply is domestic and VAT
is charged at the issuer country's rate (settings.ISSUER_VAT_RATES, percent): each currency's
net total gets a VAT amount, rounded once, half up, to the currency's minor unit, and a gross
total. A credit note uses the rate of the invoice it credits. Without a configured rate a
domestic document is refused (``vat_rate_missing``) rather than issued without VAT.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings

from affiliates.core.errors import DomainError
from affiliates.core.money import money_round
from payouts.exports.tabular import amount_text
from payouts.fx import RateInForce, fx_rates_in_force
from payouts.models import Document

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Carried:
    """An amount a document carries, and the document that carried its commission first."""

    currency: str
    amount: Decimal
    original_id: int | None


def _entry(cur: str, to: str, found: RateInForce, basis: str) -> dict[str, str]:
    return {
        "from": cur,
        "to": to,
        "base": found.base,
        "quote": found.quote,
        "rate": str(found.quoted.normalize()),
        "valid_from": found.valid_from.isoformat(),
        "basis": basis,
    }


def _factor(entry: Mapping[str, str]) -> Decimal:
    """Units of ``to`` per unit of ``from`` of a stored rate (stored as quoted: base -> quote)."""
    quoted = Decimal(entry["rate"])
    return quoted if entry["base"] == entry["from"] else Decimal(1) / quoted


def converted_at_period_end(
    totals: Mapping[str, Decimal], currency: str, at: datetime
) -> tuple[list[dict[str, str]], dict[str, str]]:
    """The rates in force at ``at`` that express ``totals`` in ``currency``, and that sum ({}
    when a rate is missing)."""
    others = sorted(cur for cur in totals if cur != currency)
    rates = fx_rates_in_force(at=at) if others else {}
    used = [
        _entry(cur, currency, found, "in force at the period end")
        for cur in others
        if (found := rates.get((cur, currency)))
    ]
    if len(used) < len(others):
        return used, {}
    total = totals.get(currency, Decimal(0)) + sum(
        (totals[cur] * rates[(cur, currency)].rate for cur in others), Decimal(0)
    )
    return used, {"currency": currency, "amount": amount_text(money_round(total, currency), currency)}


def converted_as_credited(
    carried: Iterable[Carried], currency: str, at: datetime
) -> tuple[list[dict[str, str]], dict[str, str]]:
    """A credit note's conversion: each amount at the rate of the invoice it credits."""
    per: dict[tuple[str, int | None], Decimal] = defaultdict(Decimal)
    for c in carried:
        per[(c.currency, c.original_id)] += c.amount
    originals = Document.objects.in_bulk({o for _, o in per if o is not None})
    in_force: dict[tuple[str, str], RateInForce] | None = None
    used: list[dict[str, str]] = []
    total, complete = Decimal(0), True
    for (cur, original_id), amount in sorted(per.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0)):
        if cur == currency:
            total += amount
            continue
        doc = originals.get(original_id) if original_id is not None else None
        stored = doc.fx_rates if doc else []
        entry = next((dict(e) for e in stored if (e["from"], e["to"]) == (cur, currency)), None)
        if entry is not None and doc is not None:
            entry["basis"] = f"the rate of {doc.number_text}, the invoice credited"
        else:
            in_force = in_force if in_force is not None else fx_rates_in_force(at=at)
            found = in_force.get((cur, currency))
            if found is None:
                complete = False
                continue
            why = f"{doc.number_text} used no {cur} rate" if doc else "no invoice rate"
            entry = _entry(cur, currency, found, f"in force at the period end ({why})")
        if entry not in used:
            used.append(entry)
        total += amount * _factor(entry)
    if not complete:
        return used, {}
    return used, {"currency": currency, "amount": amount_text(money_round(total, currency), currency)}


def vat_rate_for(*, treatment: str, issuer_country: str) -> Decimal | None:
    """The VAT rate (percent) a document charges: the issuer country's for a domestic supply."""
    if treatment != Document.VatTreatment.DOMESTIC:
        return None
    rate = settings.ISSUER_VAT_RATES.get(issuer_country)
    if rate is None:
        raise DomainError(
            f"Set the VAT rate of {issuer_country} in ISSUER_VAT_RATES before issuing a domestic document.",
            code="vat_rate_missing",
            status_code=409,
        )
    return Decimal(rate)


def credited_vat_rate(original_ids: Iterable[int | None], fallback: Decimal | None) -> Decimal | None:
    """A credit note's VAT rate: the one its invoices charged (the first one's, if they differ)."""
    rates = (
        Document.objects.filter(pk__in={o for o in original_ids if o is not None}, vat_rate__isnull=False)
        .order_by("pk")
        .values_list("vat_rate", flat=True)
    )
    return next(iter(rates), fallback)


def vat_totals(totals: Mapping[str, Decimal], rate: Decimal | None) -> dict[str, dict[str, str]]:
    """Per currency {"net", "vat", "gross"}: VAT on each currency's net, rounded once."""
    if rate is None:
        return {}
    out = {}
    for cur, net in sorted(totals.items()):
        vat = money_round(net * rate / HUNDRED, cur)
        out[cur] = {
            "net": amount_text(net, cur),
            "vat": amount_text(vat, cur),
            "gross": amount_text(net + vat, cur),
        }
    return out


def converted_with_vat(converted: dict[str, Any], rate: Decimal | None) -> dict[str, Any]:
    """The converted total, with its VAT and gross when VAT is charged."""
    if not converted or rate is None:
        return converted
    cur = converted["currency"]
    net = Decimal(converted["amount"])
    vat = money_round(net * rate / HUNDRED, cur)
    return {**converted, "vat": amount_text(vat, cur), "gross": amount_text(net + vat, cur)}
