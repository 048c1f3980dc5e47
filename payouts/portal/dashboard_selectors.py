"""Reads for the dashboards: traffic (tracking.portal.traffic) beside the money it earned.

Money is read from raw commissions over the same bounded window as the traffic, so today's
numbers are exact to the last postback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db.models import Sum

from affiliates.portal.daterange import DateRange, Delta
from payouts.models import Commission, CommissionStatus
from payouts.reporting_money import Converted, Rates, money_convert, money_ratio, rates_at
from payouts.reports.metrics import epc
from tracking.portal.traffic import tenant_filter, traffic_counts

EARNING = [CommissionStatus.PENDING, CommissionStatus.APPROVED]


@dataclass
class Kpis:
    clicks: int = 0
    conversions: int = 0
    money: dict[str, Decimal] = field(default_factory=dict)  # earnings (publisher) or cost (advertiser)

    @property
    def cvr(self) -> float | None:
        return 100 * self.conversions / self.clicks if self.clicks else None

    @property
    def epc(self) -> dict[str, Decimal]:
        """Payout per click, per currency, as the reports define it (payouts.reports.metrics.epc:
        pending and approved payout over every click counted)."""
        per_click = {c: epc(amount, self.clicks) for c, amount in self.money.items()}
        return {c: v for c, v in per_click.items() if v is not None}


def traffic_kpis(
    *, start: datetime, end: datetime, publisher_id: int | None = None, advertiser_id: int | None = None
) -> Kpis:
    """Clicks, counted conversions and money for one tenant in [start, end).

    Money is the publisher's payout for a publisher and the advertiser's cost (revenue) for an
    advertiser, summed per currency from commissions that are not rejected or reversed.
    """
    clicks, conversions = traffic_counts(
        start=start, end=end, publisher_id=publisher_id, advertiser_id=advertiser_id
    )
    amount = "payout" if publisher_id is not None else "revenue"
    rows = (
        Commission.objects.filter(
            tenant_filter(publisher_id=publisher_id, advertiser_id=advertiser_id, offer_path="advertiser_id"),
            created_at__gte=start,
            created_at__lt=end,
            status__in=EARNING,
        )
        .values("currency")
        .annotate(total=Sum(amount))
    )
    return Kpis(clicks=clicks, conversions=conversions, money={r["currency"]: r["total"] for r in rows})


@dataclass(frozen=True)
class KpiRow:
    """One dashboard figure, as shown and as exported: its value and the previous period's."""

    key: str
    label: str
    kind: str  # "int", "pct", "money" or "rate" (money per click or per conversion)
    value: Decimal | int | float | None
    previous: Decimal | int | float | None
    converted: Converted | None = None  # money: the total's per-currency breakdown

    @property
    def delta(self) -> Delta:
        return Delta(self.value, self.previous)


def _money_rows(kpis: Kpis, before: Kpis, *, currency: str, rates: Rates, money_label: str) -> list[KpiRow]:
    now, then = (money_convert(amounts=k.money, currency=currency, rates=rates) for k in (kpis, before))
    # A publisher reads money per click (EPC), an advertiser per conversion (CPA).
    if money_label == "Earnings":
        per, here, there = "EPC", kpis.clicks, before.clicks
    else:
        per, here, there = "CPA", kpis.conversions, before.conversions
    return [
        KpiRow(money_label.lower(), money_label, "money", now.total, then.total, now),
        KpiRow(per.lower(), per, "rate", money_ratio(now, here), money_ratio(then, there)),
    ]


def dashboard_kpis(
    *,
    chosen: DateRange,
    compare: bool,
    currency: str,
    publisher_id: int | None = None,
    advertiser_id: int | None = None,
) -> list[KpiRow]:
    """The dashboard's figures over ``chosen`` beside its previous period (None when not
    compared), money in ``currency`` at the rates in force at the range's end."""
    tenant = {"publisher_id": publisher_id, "advertiser_id": advertiser_id}
    kpis = traffic_kpis(start=chosen.start, end=chosen.end, **tenant)
    before = Kpis()
    if compare:
        prev = chosen.previous()
        before = traffic_kpis(start=prev.start, end=prev.end, **tenant)
    rows = [
        KpiRow("clicks", "Clicks", "int", kpis.clicks, before.clicks),
        KpiRow("conversions", "Conversions", "int", kpis.conversions, before.conversions),
        KpiRow("cvr", "CVR", "pct", kpis.cvr, before.cvr),
    ]
    label = "Earnings" if publisher_id is not None else "Cost"
    rows += _money_rows(kpis, before, currency=currency, rates=rates_at(at=chosen.end), money_label=label)
    if not compare:
        rows = [KpiRow(r.key, r.label, r.kind, r.value, None, r.converted) for r in rows]
    return rows
