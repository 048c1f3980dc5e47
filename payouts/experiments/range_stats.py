"""The A/B test and budget-shift pages' figures over the range picked (affiliates.portal.daterange)
against its previous period: per test or per variant, clicks, converting clicks, CVR and
money per click from the variants' daily rollup (AbVariantDaily, UTC days of the click); per
status, the weekly budget shifts whose week overlaps the range."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum

from affiliates.portal.daterange import DateRange, Delta
from payouts.experiments.models import AbVariantDaily, BudgetShift
from payouts.portal.dashboard_selectors import KpiRow

ZERO = Decimal(0)


@dataclass(frozen=True)
class Figures:
    clicks: int = 0
    conversions: int = 0
    revenue: Decimal = ZERO
    payout: Decimal = ZERO

    @property
    def cvr(self) -> Decimal | None:
        """Converting clicks per 100 clicks."""
        if not self.clicks:
            return None
        return (Decimal(self.conversions) * 100 / self.clicks).quantize(Decimal("0.01"))

    @property
    def epc(self) -> Decimal | None:
        """Publisher payout per click (a rate: four places)."""
        return (self.payout / self.clicks).quantize(Decimal("0.0001")) if self.clicks else None

    @property
    def rpc(self) -> Decimal | None:
        """Revenue per click."""
        return (self.revenue / self.clicks).quantize(Decimal("0.0001")) if self.clicks else None


@dataclass(frozen=True)
class Compared:
    now: Figures
    before: Figures | None  # None: comparison turned off

    def delta(self, name: str) -> Delta:
        return Delta(getattr(self.now, name), getattr(self.before, name) if self.before else None)

    @property
    def clicks_delta(self) -> Delta:
        return self.delta("clicks")

    @property
    def conversions_delta(self) -> Delta:
        return self.delta("conversions")

    @property
    def cvr_delta(self) -> Delta:
        return self.delta("cvr")

    @property
    def epc_delta(self) -> Delta:
        return self.delta("epc")

    @property
    def rpc_delta(self) -> Delta:
        return self.delta("rpc")


def _figures(*, by: str, ids: Iterable[int], first: date, last: date) -> dict[int, Figures]:
    """{test or variant id: its figures over the days first..last}, one query."""
    column = {"test": "variant__test_id", "variant": "variant_id"}[by]
    rows = (
        AbVariantDaily.objects.filter(**{f"{column}__in": list(ids)}, day__gte=first, day__lte=last)
        .values(column)
        .annotate(c=Sum("clicks"), n=Sum("conversions"), r=Sum("revenue"), p=Sum("payout"))
        .order_by()
    )
    return {
        row[column]: Figures(row["c"] or 0, row["n"] or 0, row["r"] or ZERO, row["p"] or ZERO) for row in rows
    }


def ab_compared(*, by: str, ids: Iterable[int], chosen: DateRange, compare: bool) -> dict[int, Compared]:
    """Each test's (``by="test"``) or variant's (``by="variant"``) figures over ``chosen`` and,
    with ``compare``, over its previous period. Ids without a row get zeros."""
    ids = list(ids)
    now = _figures(by=by, ids=ids, first=chosen.first, last=chosen.last)
    before: dict[int, Figures] = {}
    if compare:
        previous = chosen.previous()
        before = _figures(by=by, ids=ids, first=previous.first, last=previous.last)
    return {
        pk: Compared(now.get(pk, Figures()), before.get(pk, Figures()) if compare else None) for pk in ids
    }


def ab_kpis(compared: Iterable[Compared], *, compare: bool) -> list[KpiRow]:
    """The page's totals: clicks, converting clicks and CVR over every test listed."""
    now, before = Figures(), Figures()
    for c in compared:
        now = Figures(now.clicks + c.now.clicks, now.conversions + c.now.conversions)
        if c.before is not None:
            before = Figures(before.clicks + c.before.clicks, before.conversions + c.before.conversions)
    rows = [
        ("clicks", "Clicks in tests", "int", now.clicks, before.clicks),
        ("conversions", "Converting clicks", "int", now.conversions, before.conversions),
        ("cvr", "Conversion rate", "pct", now.cvr, before.cvr),
    ]
    return [KpiRow(k, label, kind, v, p if compare else None) for k, label, kind, v, p in rows]


def shifts_in(qs: QuerySet[BudgetShift], *, first: date, last: date) -> QuerySet[BudgetShift]:
    """The shifts whose week (a Monday and the six days after it) overlaps first..last."""
    return qs.filter(week__lte=last, week__gte=first - timedelta(days=6))


SHIFT_FIGURES = (
    ("proposals", "Proposals", Q()),
    ("applied", "Applied", Q(status=BudgetShift.Status.APPLIED)),
    ("undone", "Undone", Q(status=BudgetShift.Status.UNDONE)),
    ("advice", "Advice only", Q(status=BudgetShift.Status.ADVICE)),
)


def _shift_counts(qs: QuerySet[BudgetShift], first: date, last: date) -> dict[str, int]:
    found = shifts_in(qs, first=first, last=last).aggregate(
        **{key: Count("pk", filter=where) for key, _, where in SHIFT_FIGURES}
    )
    return {key: int(found[key] or 0) for key, _, _ in SHIFT_FIGURES}


def shift_kpis(qs: QuerySet[BudgetShift], *, chosen: DateRange, compare: bool) -> list[KpiRow]:
    """The shifts of the range by what became of them, against the previous period."""
    now = _shift_counts(qs, chosen.first, chosen.last)
    before: dict[str, int] = {}
    if compare:
        previous = chosen.previous()
        before = _shift_counts(qs, previous.first, previous.last)
    return [KpiRow(key, label, "int", now[key], before.get(key)) for key, label, _ in SHIFT_FIGURES]
