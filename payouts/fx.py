"""Loading FX rates from CSV rows (the command and the API share it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.db.models import Q
from django.utils.dateparse import parse_date, parse_datetime

from affiliates.core.audit import audit_log_changes, audit_saved
from affiliates.core.money import currency_is_valid
from affiliates.models import FxRate


@dataclass(frozen=True)
class FxRow:
    line: int
    base: str
    quote: str
    rate: Decimal
    valid_from: datetime


def _when(raw: str) -> datetime | None:
    from datetime import UTC, time

    value = parse_datetime(raw)
    if value is None and (day := parse_date(raw)) is not None:
        value = datetime.combine(day, time.min)
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # rates are published for UTC dates
    return value


def fx_rows_parse(records: list[dict[str, str]]) -> tuple[list[FxRow], list[tuple[int, str]]]:
    rows: list[FxRow] = []
    errors: list[tuple[int, str]] = []
    for line, rec in enumerate(records, start=2):
        data = {(k or "").strip().lower(): (v or "").strip() for k, v in rec.items()}
        base, quote = data.get("base", "").upper(), data.get("quote", "").upper()
        problems = [f"unknown currency {c!r}" for c in (base, quote) if not currency_is_valid(c)]
        if base == quote and base:
            problems.append("base and quote are the same")
        try:
            rate = Decimal(data.get("rate", ""))
            if not rate.is_finite() or rate <= 0:
                raise InvalidOperation
        except InvalidOperation:
            problems.append("rate must be a positive decimal")
            rate = Decimal(0)
        valid_from = _when(data.get("valid_from", ""))
        if valid_from is None:
            problems.append("valid_from must be an ISO 8601 date or datetime")
        errors.extend((line, p) for p in problems)
        if not problems and valid_from is not None:
            rows.append(FxRow(line, base, quote, rate, valid_from))
    return rows, errors


def fx_rows_save(rows: list[FxRow]) -> tuple[int, list[tuple[int, str]]]:
    """Insert new rates; identical ones are skipped, conflicting ones reported."""
    if not rows:
        return 0, []
    q = Q()
    for r in rows:
        q |= Q(base=r.base, quote=r.quote, valid_from=r.valid_from)
    existing = {(f.base, f.quote, f.valid_from): f.rate for f in FxRate.objects.filter(q)}
    errors, new, seen = [], [], set()
    for r in rows:
        key = (r.base, r.quote, r.valid_from)
        if key in existing and existing[key] != r.rate:
            errors.append(
                (r.line, f"{r.base}/{r.quote} at {r.valid_from:%Y-%m-%d %H:%M} is already {existing[key]}")
            )
        elif key not in existing and key not in seen:
            new.append(FxRate(base=r.base, quote=r.quote, rate=r.rate, valid_from=r.valid_from))
            seen.add(key)
    if errors:
        return 0, errors
    FxRate.objects.bulk_create(new)
    audit_log_changes([audit_saved(None, rate, source="fx rates import") for rate in new])
    return len(new), []


@dataclass(frozen=True)
class RateInForce:
    rate: Decimal  # units of the pair's quote per unit of its base, as asked for
    valid_from: datetime
    # The row of the FX table it comes from, as entered (a rate asked for the other way round is
    # its inverse): documents print this one, the way the rate was published.
    base: str
    quote: str
    quoted: Decimal


def fx_rates_in_force(*, at: datetime) -> dict[tuple[str, str], RateInForce]:
    """(base, quote) -> the rate in force at ``at``, both directions, from the FX table.

    A pair entered one way only converts the other way at its inverse (unrounded: it is a
    factor, and money is rounded once, where the converted amount is)."""
    rates: dict[tuple[str, str], RateInForce] = {}
    # Ordered newest first per pair, so the first seen is the one in force.
    for fx in FxRate.objects.filter(valid_from__lte=at).order_by("base", "quote", "-valid_from"):
        if (fx.base, fx.quote) not in rates:
            rates[(fx.base, fx.quote)] = RateInForce(fx.rate, fx.valid_from, fx.base, fx.quote, fx.rate)
    for (base, quote), found in list(rates.items()):
        inverse = RateInForce(Decimal("1") / found.rate, found.valid_from, base, quote, found.rate)
        rates.setdefault((quote, base), inverse)
    return rates
