"""A CPC/CPM daily line split over the visitor attributes of its valid traffic, for reports.

The ledger keeps one line per offer x publisher x goal x UTC day (payouts/traffic.py); reports
grouped by sub1 (or country, device, sub2-sub5, and the hourly source rollup) need that line's
money on the values its clicks carried. Each time a line is written or changes, its shares are
rewritten in the same database transaction from the same count of valid clicks that priced it,
so the shares of a line always sum to the line, to the last stored place, and reports still
equal the ledger.

Rounding: a line is round(sum of count x price) to the currency's minor unit, rounded once; its
shares split that rounded amount in proportion to each combination's exact earnings (count x
price for its country), to MONEY_PLACES, the leftover units going to the largest remainders
(ties: the larger share, then the attribute values, so a recount gives the same split).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence
from decimal import Context, Decimal, localcontext

from affiliates.core.db import db_supports_binary_copy
from affiliates.core.money import MONEY_PLACES
from payouts.bulk import insert_rows
from payouts.models import CommissionShare
from payouts.reconcile_copy import rows_copy

# The visitor attributes a share is keyed by, in the order the click count returns them.
ATTRIBUTES = ("country", "device", "sub1", "sub2", "sub3", "sub4", "sub5", "source")
EMPTY: tuple[str, ...] = ("",) * len(ATTRIBUTES)
QUANTUM = Decimal(1).scaleb(-MONEY_PLACES)
# Enough digits for a share's exact integer division (amount in units x weight), whatever the
# thread's default context.
_WIDE = Context(prec=60)

# (attribute values, count, exact revenue, exact payout) of one combination of a line's traffic.
Part = tuple[tuple[str, ...], int, Decimal, Decimal]
_COLUMNS = (
    ("commission_id", "int"),
    *((name, "str") for name in ATTRIBUTES),
    ("quantity", "int"),
    ("revenue", "money"),
    ("payout", "money"),
)


def amount_split(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """``total`` split in proportion to ``weights`` to MONEY_PLACES, summing exactly to ``total``
    (largest remainder). Zero weights everywhere: the split follows nothing, all on the first."""
    if not weights:
        return []
    whole = sum(weights, Decimal(0))
    if whole == 0:
        return [total, *([Decimal(0)] * (len(weights) - 1))]
    # In whole QUANTUM units: each share's floor and remainder in one exact integer division
    # (no rounding of an intermediate quotient), and a sort only for the units left over.
    with localcontext(_WIDE):
        units = total.scaleb(MONEY_PLACES)
        split = [divmod(units * w, whole) for w in weights]
        floors = [q for q, _ in split]
        left = int(units - sum(floors, Decimal(0)))
        if left:
            for i in heapq.nsmallest(left, range(len(weights)), key=lambda i: (-split[i][1], -weights[i], i)):
                floors[i] += 1
        return [q.scaleb(-MONEY_PLACES) for q in floors]


def shares_rows(
    commission_id: int, revenue: Decimal, payout: Decimal, parts: Sequence[Part]
) -> list[tuple[object, ...]]:
    """The share rows of one line; a line with no valid traffic left is one share without attributes."""
    parts = sorted(parts) or [(EMPTY, 0, Decimal(0), Decimal(0))]
    revenues = amount_split(revenue, [p[2] for p in parts])
    payouts = amount_split(payout, [p[3] for p in parts])
    return [
        (commission_id, *attrs, n, rev, pay)
        for (attrs, n, _, _), rev, pay in zip(parts, revenues, payouts, strict=True)
    ]


def shares_write(
    lines: Iterable[tuple[int, Decimal, Decimal, tuple[int, int]]],
    parts: Mapping[tuple[int, int], Sequence[Part]],
) -> int:
    """Replace the shares of these lines, ``(commission id, revenue, payout, (offer, publisher))``,
    with the split of ``parts`` by (offer, publisher). The caller holds the lines' transaction."""
    rows: list[tuple[object, ...]] = []
    ids: list[int] = []
    for pk, revenue, payout, pair in lines:
        ids.append(pk)
        rows.extend(shares_rows(pk, revenue, payout, parts.get(pair, ())))
    if not ids:
        return 0
    CommissionShare.objects.filter(commission_id__in=ids).delete()
    if db_supports_binary_copy():  # a busy day rewrites many shares: COPY, not INSERT
        rows_copy(CommissionShare._meta.db_table, tuple(name for name, _ in _COLUMNS), rows)
    else:
        insert_rows(CommissionShare._meta.db_table, _COLUMNS, rows)
    return len(rows)
