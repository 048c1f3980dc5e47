"""Pricing a reconciliation batch: conversion rows in, commission rows out.

Everything a batch needs (goals with their offers, the custom payouts of its offer x publisher
pairs, FX rates) is loaded in a few queries up front; each distinct (goal, publisher, country)
is priced once with ``affiliates.pricing.price_pick``, the function attribution uses, so both
always agree. The per-row work is what must be per row: a CPS percentage of the sale amount,
an FX conversion, and the commission's columns. Flat prices are rounded once per batch, with
the same ``money_round`` as everything else.
"""

from __future__ import annotations

import logging
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from affiliates.core.money import money_round
from affiliates.models import CustomPayout, FxRate, Goal
from affiliates.pricing import Price, has_sale_conditions, price_pick
from payouts.models import Commission, CommissionStatus

log = logging.getLogger(__name__)

ACTION_TYPES = (Goal.PayoutType.CPL, Goal.PayoutType.CPA, Goal.PayoutType.CPS, Goal.PayoutType.CPI)
# A conversion row, as the batch reads it (values_list in this order).
CONVERSION_FIELDS = (
    "id",
    "created_at",
    "offer_id",
    "publisher_id",
    "goal_id",
    "status",
    "amount",
    "currency",
    "country",
    "held_for_review",
)
# Positions in a conversion row.
ID, OFFER, PUBLISHER, GOAL, STATUS, AMOUNT, CURRENCY = (
    CONVERSION_FIELDS.index(f)
    for f in ("id", "offer_id", "publisher_id", "goal_id", "status", "amount", "currency")
)
HELD = CONVERSION_FIELDS.index("held_for_review")
# The commission columns commission_row returns, in order, with the type the row writer
# encodes each as (created_at / updated_at are the batch's time, added by the writer).
COMMISSION_COLUMN_TYPES = (
    ("source_key", "str"),
    ("kind", "str"),
    ("conversion_id", "int"),
    ("advertiser_id", "int"),
    ("offer_id", "int"),
    ("publisher_id", "int"),
    ("goal_id", "int"),
    ("day", "date"),
    ("quantity", "int"),
    ("status", "str"),
    ("currency", "str"),
    ("revenue", "money"),
    ("payout", "money"),
    ("sale_amount", "money"),
    ("original_amount", "money"),
    ("original_currency", "str"),
    ("fx_rate", "money"),
    ("price_source", "str"),
    ("hold_until", "ts"),
    ("held_for_review", "bool"),
    ("status_reason", "str"),
    ("revision", "int"),
    ("approved_at", "ts"),
)
COMMISSION_COLUMNS = tuple(name for name, _ in COMMISSION_COLUMN_TYPES)
SKIP = object()  # cannot be priced yet (no FX rate): leave the conversion for the next run
_EARNING = (CommissionStatus.PENDING, CommissionStatus.APPROVED)
# What pricing reads of a goal and its offer (the offer has wide columns a batch does not need).
_GOAL_FIELDS = (
    "id",
    "offer_id",
    "payout_type",
    "payout",
    "revenue",
    "offer__advertiser_id",
    "offer__currency",
    "offer__hold_days",
)
_CONVERSION = Commission.Kind.CONVERSION


class _GoalTerms(NamedTuple):
    """What a row needs of its goal and offer, looked up once per batch."""

    goal: Goal
    advertiser_id: int
    offer_id: int
    currency: str
    hold: timedelta
    is_cps: bool


class BatchPricer:
    """Everything needed to price one batch's conversions, loaded in a few queries up front."""

    def __init__(self, rows: Sequence[Sequence[Any]]) -> None:
        goal_ids = {r[GOAL] for r in rows if r[GOAL]}
        goals = (
            Goal.objects.filter(id__in=goal_ids, payout_type__in=ACTION_TYPES)
            .select_related("offer")
            .only(*_GOAL_FIELDS)
        )
        self.terms = {
            g.id: _GoalTerms(
                g,
                g.offer.advertiser_id,
                g.offer_id,
                g.offer.currency,
                timedelta(days=g.offer.hold_days),
                g.payout_type == Goal.PayoutType.CPS,
            )
            for g in goals
        }
        pairs = {(r[OFFER], r[PUBLISHER]) for r in rows if r[GOAL] in self.terms}
        self.customs: dict[tuple[int, int], list[CustomPayout]] = defaultdict(list)
        for custom in CustomPayout.objects.filter(
            offer_id__in={p[0] for p in pairs}, publisher_id__in_ids={p[1] for p in pairs}
        ):
            self.customs[(custom.offer_id, custom.publisher_id)].append(custom)
        # Pairs with a sale-amount condition are priced per sale; the others once per batch.
        self.per_sale = {pair for pair, customs in self.customs.items() if has_sale_conditions(customs)}
        # (goal, publisher, country) -> the price, and for a flat one its rounded (payout, revenue)
        self.prices: dict[tuple[int, int, str], tuple[Price, tuple[Decimal, Decimal] | None]] = {}
        self.fx = _FxTable(rows, self.terms)

    def _price(
        self, terms: _GoalTerms, publisher_id: int, country: str, sale: Decimal | None
    ) -> tuple[Price, tuple[Decimal, Decimal] | None]:
        customs = self.customs.get((terms.offer_id, publisher_id), [])
        if (terms.offer_id, publisher_id) in self.per_sale:  # a price per sale: rare, so not cached
            price = price_pick(goal=terms.goal, customs=customs, country=country, sale_amount=sale)
            return price, None
        # Without custom payouts the goal's own price applies to every publisher and country.
        key = (terms.goal.id, publisher_id, country) if customs else (terms.goal.id, 0, "")
        found = self.prices.get(key)
        if found is None:
            price = price_pick(goal=terms.goal, customs=customs, country=country)
            flat = None
            if not terms.is_cps:
                payout, revenue = price.amounts(None)
                flat = (money_round(payout, terms.currency), money_round(revenue, terms.currency))
            found = self.prices[key] = (price, flat)
        return found

    def commission_row(self, row: Sequence[Any]) -> tuple[Any, ...] | object | None:
        """The commission columns (COMMISSION_COLUMNS) for a conversion row; None when it earns
        nothing (rejected, unattributed, or a CPC/CPM goal, which earn through daily lines);
        SKIP when it cannot be priced yet."""
        # A row may carry more after CONVERSION_FIELDS: reconcile's adds the commission's id.
        conversion_id, created_at, _, publisher_id, goal_id, status, original, currency, country = row[:HELD]
        held = row[HELD]
        terms = self.terms.get(goal_id)
        if terms is None or publisher_id is None or status not in _EARNING:
            return None
        offer_currency = terms.currency
        original_currency = currency or offer_currency
        sale, rate = original, None
        if original is not None and original_currency != offer_currency:
            rate = self.fx.rate(original_currency, offer_currency, created_at)
            if rate is None:
                if terms.is_cps:
                    log.warning(
                        "conversion %s: no %s/%s rate yet", conversion_id, original_currency, offer_currency
                    )
                    return SKIP
                sale = None  # a flat price does not need the sale amount converted
            else:
                sale = original * rate
        price, flat = self._price(terms, publisher_id, country, sale)
        if flat is None:
            exact_payout, exact_revenue = price.amounts(sale)
            payout = money_round(exact_payout, offer_currency)
            revenue = money_round(exact_revenue, offer_currency)
        else:
            payout, revenue = flat
        return (
            f"conversion:{conversion_id}",
            _CONVERSION,
            conversion_id,
            terms.advertiser_id,
            terms.offer_id,
            publisher_id,
            goal_id,
            created_at.date(),
            1,
            status,
            offer_currency,
            revenue,
            payout,
            sale,
            original,
            original_currency if original is not None else "",
            rate,
            price.source,
            created_at + terms.hold,
            held,
            "",
            1,
            created_at if status == CommissionStatus.APPROVED else None,
        )


class _FxTable:
    """The rates a batch may need, with bisect lookup of the rate in force at a time."""

    def __init__(self, rows: Sequence[Sequence[Any]], terms: dict[int, _GoalTerms]) -> None:
        pairs = set()
        for r in rows:
            goal = terms.get(r[GOAL])
            if goal and r[AMOUNT] is not None and r[CURRENCY] and r[CURRENCY] != goal.currency:
                pairs.add((r[CURRENCY], goal.currency))
        self.table: dict[tuple[str, str], tuple[list[datetime], list[Decimal]]] = {}
        if not pairs:
            return
        wanted = pairs | {(q, b) for b, q in pairs}
        grouped: dict[tuple[str, str], list[tuple[datetime, Decimal]]] = defaultdict(list)
        for base, quote, valid_from, rate in FxRate.objects.filter(
            base__in={p[0] for p in wanted}, quote__in={p[1] for p in wanted}
        ).values_list("base", "quote", "valid_from", "rate"):
            if (base, quote) in wanted:
                grouped[(base, quote)].append((valid_from, rate))
        for pair, items in grouped.items():
            items.sort()
            self.table[pair] = ([t for t, _ in items], [r for _, r in items])

    def _lookup(self, pair: tuple[str, str], at: datetime) -> Decimal | None:
        times, rates = self.table.get(pair, ([], []))
        i = bisect_right(times, at)
        return rates[i - 1] if i else None

    def rate(self, base: str, quote: str, at: datetime) -> Decimal | None:
        """BASE->QUOTE at ``at``; an inverse QUOTE->BASE row is used when no direct one exists."""
        direct = self._lookup((base, quote), at)
        if direct is not None:
            return direct
        inverse = self._lookup((quote, base), at)
        # 10 places: the stored rate's precision, so the rate on the commission is the one used.
        return (Decimal(1) / inverse).quantize(Decimal("1E-10")) if inverse is not None else None
