"""Reads for the dashboards: traffic (tracking.portal.traffic) beside the money it earned.

Money is read from raw commissions over the same bounded window as the traffic, so today's
numbers are exact to the last postback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db.models import Sum

from payouts.models import Commission, CommissionStatus
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
