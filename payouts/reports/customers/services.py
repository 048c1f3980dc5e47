"""The customer-value job: customers' first conversions, cohort rollups and the new/returning mix.

``customer_value_refresh`` recomputes, from valid conversions (pending or approved, attributed)
that carry a customer id or a reported customer type, everything that can still change: the
customers first seen since the start of the month 180 days ago (the longest horizon), their
cohorts, and the mix of the days since then. Older cohorts are final and kept as they are, so a
run reads a bounded window of conversions (by the created_at index: about seven months),
never the whole history; the first run, or ``full=True``, reads everything.

Idempotent: each run deletes the window's rows and writes them again in one transaction, under
a lock so two runs never interleave; running it twice gives the same tables.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from payouts.models import CohortRollup, Customer, CustomerMixRollup, CustomerValueRun
from payouts.models.commissions import CommissionStatus
from payouts.models.customers import HORIZONS
from tracking.models import Conversion
from tracking.models.conversions import ConversionStatus

VALID = (ConversionStatus.PENDING, ConversionStatus.APPROVED)
PAID = (CommissionStatus.PENDING, CommissionStatus.APPROVED)
ZERO = Decimal(0)
LOCK_KEY = 0x4C5456  # "LTV": the advisory lock that serialises runs on PostgreSQL
COLUMNS = (
    "id",
    "advertiser_id",
    "customer_hash",
    "customer_type",
    "publisher_id",
    "offer_id",
    "source_id",
    "created_at",
    "offer__currency",
    "commission__status",
    "commission__revenue",
    "commission__payout",
    "commission__sale_amount",
)


@dataclass(frozen=True)
class Order:
    id: int
    advertiser_id: int
    customer_hash: str | None
    customer_type: str | None
    publisher_id: int
    offer_id: int
    source_id: str
    at: datetime
    currency: str
    revenue: Decimal
    payout: Decimal
    sale_amount: Decimal

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Order:
        paid = row["commission__status"] in PAID
        return cls(
            id=row["id"],
            advertiser_id=row["advertiser_id"],
            customer_hash=row["customer_hash"],
            customer_type=row["customer_type"],
            publisher_id=row["publisher_id"],
            offer_id=row["offer_id"],
            source_id=row["source_id"],
            at=row["created_at"],
            currency=row["offer__currency"],
            revenue=row["commission__revenue"] or ZERO if paid else ZERO,
            payout=row["commission__payout"] or ZERO if paid else ZERO,
            sale_amount=row["commission__sale_amount"] or ZERO if paid else ZERO,
        )


@dataclass(frozen=True)
class RefreshResult:
    as_of: datetime
    window_start: datetime | None
    customers: int
    cohort_rows: int
    mix_rows: int


def month_start(at: datetime) -> datetime:
    return at.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def window_start_for(as_of: datetime) -> datetime:
    """Customers first seen from here on may still gain orders inside their longest horizon."""
    return month_start(as_of - timedelta(days=max(HORIZONS)))


def _orders(as_of: datetime, start: datetime | None) -> list[Order]:
    qs = Conversion.objects.filter(
        Q(customer_hash__isnull=False) | Q(customer_type__isnull=False),
        status__in=VALID,
        publisher__isnull=False,
        offer__isnull=False,
        created_at__lt=as_of,
    )
    if start is not None:
        qs = qs.filter(created_at__gte=start)
    rows = qs.order_by("created_at", "id").values(*COLUMNS)
    return [Order.from_row(row) for row in rows.iterator(chunk_size=5000)]


def _frozen(keys: set[tuple[int, str]], start: datetime | None) -> set[tuple[int, str]]:
    """Of these customers, those first seen before the window: their cohorts are final."""
    if start is None or not keys:
        return set()
    by_adv: dict[int, list[str]] = defaultdict(list)
    for adv, hashed in keys:
        by_adv[adv].append(hashed)
    found: set[tuple[int, str]] = set()
    for adv, hashes in by_adv.items():
        for i in range(0, len(hashes), 500):
            found.update(
                Customer.objects.filter(
                    advertiser_id=adv, customer_hash__in=hashes[i : i + 500], first_at__lt=start
                ).values_list("advertiser_id", "customer_hash")
            )
    return found


def _by_customer(orders: Iterable[Order]) -> dict[tuple[int, str], list[Order]]:
    grouped: dict[tuple[int, str], list[Order]] = defaultdict(list)
    for order in orders:  # already in time order
        if order.customer_hash:
            grouped[(order.advertiser_id, order.customer_hash)].append(order)
    return grouped


def _customer_row(first: Order) -> Customer:
    return Customer(
        advertiser_id=first.advertiser_id,
        customer_hash=first.customer_hash or "",
        first_conversion_id=first.id,
        first_at=first.at,
        cohort_month=first.at.date().replace(day=1),
        publisher_id=first.publisher_id,
        offer_id=first.offer_id,
        source_id=first.source_id,
        currency=first.currency,
    )


def _cohorts(customers: dict[tuple[int, str], list[Order]]) -> list[CohortRollup]:
    """Each customer's orders within 30/60/90/180 days of its first, summed per cohort key."""
    rows: dict[tuple[Any, ...], CohortRollup] = {}

    def row(first: Order, horizon: int, currency: str) -> CohortRollup:
        key = (first.advertiser_id, first.at.date().replace(day=1), first.publisher_id, first.source_id)
        full = (*key, horizon, currency)
        if full not in rows:
            rows[full] = CohortRollup(
                advertiser_id=key[0],
                cohort_month=key[1],
                publisher_id=key[2],
                source_id=key[3],
                horizon_days=horizon,
                currency=currency,
            )
        return rows[full]

    for orders in customers.values():
        first = orders[0]
        for horizon in HORIZONS:
            head = row(first, horizon, first.currency)
            head.customers += 1
            head.acquisition_revenue += first.revenue
            head.acquisition_payout += first.payout
            until = first.at + timedelta(days=horizon)
            for order in orders:
                if order.at >= until:
                    break
                target = row(first, horizon, order.currency)
                target.orders += 1
                target.revenue += order.revenue
                target.payout += order.payout
                target.sale_amount += order.sale_amount
    return list(rows.values())


def _is_new(order: Order, firsts: set[int]) -> bool:
    if order.customer_type:  # the advertiser knows its customers before the network did
        return order.customer_type == "new"
    return order.id in firsts


def _mix(orders: Iterable[Order], firsts: set[int]) -> list[CustomerMixRollup]:
    rows: dict[tuple[int, date, int, str], CustomerMixRollup] = {}
    for order in orders:
        key = (order.advertiser_id, order.at.date(), order.publisher_id, order.source_id)
        if key not in rows:
            rows[key] = CustomerMixRollup(
                advertiser_id=key[0], day=key[1], publisher_id=key[2], source_id=key[3]
            )
        if _is_new(order, firsts):
            rows[key].new_orders += 1
        else:
            rows[key].returning_orders += 1
    return list(rows.values())


def _lock() -> None:
    """Hold until the end of the transaction; SQLite serialises writers by itself."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])


def customer_value_refresh(*, as_of: datetime | None = None, full: bool = False) -> RefreshResult:
    """Recompute the customer-value tables for the window (see the module's docstring)."""
    began = time.monotonic()
    as_of = as_of or timezone.now()
    with transaction.atomic():
        _lock()
        full = full or not CustomerValueRun.objects.filter(window_start__isnull=True).exists()
        start = None if full else window_start_for(as_of)
        orders = _orders(as_of, start)
        grouped = _by_customer(orders)
        frozen = _frozen(set(grouped), start)
        fresh = {key: group for key, group in grouped.items() if key not in frozen}
        customers = [_customer_row(group[0]) for group in fresh.values()]
        cohorts = _cohorts(fresh)
        mix = _mix(orders, {c.first_conversion_id for c in customers})

        if start is None:
            Customer.objects.all().delete()
            CohortRollup.objects.all().delete()
            CustomerMixRollup.objects.all().delete()
        else:
            Customer.objects.filter(first_at__gte=start).delete()
            CohortRollup.objects.filter(cohort_month__gte=start.date()).delete()
            CustomerMixRollup.objects.filter(day__gte=start.date()).delete()
        Customer.objects.bulk_create(customers, batch_size=2000)
        CohortRollup.objects.bulk_create(cohorts, batch_size=2000)
        CustomerMixRollup.objects.bulk_create(mix, batch_size=2000)
        CustomerValueRun.objects.create(
            as_of=as_of, window_start=start, customers=len(customers), seconds=time.monotonic() - began
        )
    return RefreshResult(as_of, start, len(customers), len(cohorts), len(mix))
