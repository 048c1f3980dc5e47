"""Reads for the portal pages: KPI tiles and daily series, the marketplace, queues.

Dashboards read the raw click, conversion and commission tables over a bounded window (at most
30 days, on indexed (tenant, time) columns). The reports pages read rollups instead; these tiles
stay on raw rows so today's numbers are exact to the last postback.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from affiliates.models import OfferAccess
from payouts.models import Commission, CommissionStatus
from payouts.reports.metrics import epc
from tracking.models import Click, Conversion
from tracking.models.conversions import ConversionStatus

PERIODS = {"today": "Today", "yesterday": "Yesterday", "7d": "Last 7 days", "30d": "Last 30 days"}
COUNTED = [ConversionStatus.PENDING, ConversionStatus.APPROVED]
EARNING = [CommissionStatus.PENDING, CommissionStatus.APPROVED]


def period_bounds(period: str, now: datetime | None = None) -> tuple[datetime, datetime]:
    """[start, end) in UTC for a dashboard period name; unknown names mean the last 7 days."""
    now = now or timezone.now()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "today":
        return midnight, now
    if period == "yesterday":
        return midnight - timedelta(days=1), midnight
    days = 30 if period == "30d" else 7
    return midnight - timedelta(days=days - 1), now


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


def _tenant_filter(*, publisher_id: int | None, advertiser_id: int | None, offer_path: str) -> Q:
    if publisher_id is not None:
        return Q(publisher_id=publisher_id)
    return Q(**{offer_path: advertiser_id})


def traffic_kpis(
    *, start: datetime, end: datetime, publisher_id: int | None = None, advertiser_id: int | None = None
) -> Kpis:
    """Clicks, counted conversions and money for one tenant in [start, end).

    Money is the publisher's payout for a publisher and the advertiser's cost (revenue) for an
    advertiser, summed per currency from commissions that are not rejected or reversed.
    """
    who = {"publisher_id": publisher_id, "advertiser_id": advertiser_id}
    clicks = Click.objects.filter(
        _tenant_filter(**who, offer_path="offer__advertiser_id"), created_at__gte=start, created_at__lt=end
    ).count()
    conversions = Conversion.objects.filter(
        _tenant_filter(**who, offer_path="offer__advertiser_id"),
        created_at__gte=start,
        created_at__lt=end,
        status__in=COUNTED,
    ).count()
    amount = "payout" if publisher_id is not None else "revenue"
    rows = (
        Commission.objects.filter(
            _tenant_filter(**who, offer_path="advertiser_id"),
            created_at__gte=start,
            created_at__lt=end,
            status__in=EARNING,
        )
        .values("currency")
        .annotate(total=Sum(amount))
    )
    return Kpis(clicks=clicks, conversions=conversions, money={r["currency"]: r["total"] for r in rows})


@dataclass
class DailySeries:
    days: list[date]
    clicks: list[int]
    conversions: list[int]

    @property
    def labels(self) -> list[str]:
        return [d.strftime("%b %d") for d in self.days]


def traffic_daily(
    *, days: int, publisher_id: int | None = None, advertiser_id: int | None = None
) -> DailySeries:
    """Clicks and counted conversions per UTC day for the last ``days`` days, zeros included."""
    today = timezone.now().date()
    first = today - timedelta(days=days - 1)
    start = datetime.combine(first, datetime.min.time(), tzinfo=timezone.get_current_timezone())
    who = _tenant_filter(
        publisher_id=publisher_id, advertiser_id=advertiser_id, offer_path="offer__advertiser_id"
    )

    def per_day(qs: QuerySet[Any]) -> dict[date, int]:
        rows = qs.filter(who, created_at__gte=start).annotate(d=TruncDate("created_at")).values("d")
        return {r["d"]: r["n"] for r in rows.annotate(n=Count("pk")).order_by()}

    clicks = per_day(Click.objects.all())
    conversions = per_day(Conversion.objects.filter(status__in=COUNTED))
    span = [first + timedelta(days=i) for i in range(days)]
    return DailySeries(
        days=span, clicks=[clicks.get(d, 0) for d in span], conversions=[conversions.get(d, 0) for d in span]
    )


def advertiser_publishers(*, advertiser_id: int) -> list[dict[str, Any]]:
    """Publishers with access to this advertiser's offers: their offers and 30-day numbers."""
    since = timezone.now() - timedelta(days=30)
    rows: dict[int, dict[str, Any]] = {}
    accesses = (
        OfferAccess.objects.filter(offer__advertiser_id=advertiser_id, status=OfferAccess.Status.APPROVED)
        .select_related("publisher", "offer")
        .order_by("publisher__name")
    )
    for a in accesses:
        row = rows.setdefault(
            a.publisher_id, {"publisher": a.publisher, "offers": [], "clicks": 0, "conversions": 0}
        )
        row["offers"].append(a.offer)
    clicks = (
        Click.objects.filter(offer__advertiser_id=advertiser_id, created_at__gte=since, publisher_id__in=rows)
        .values("publisher_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    convs = (
        Conversion.objects.filter(
            offer__advertiser_id=advertiser_id,
            created_at__gte=since,
            status__in=COUNTED,
            publisher_id__in=rows,
        )
        .values("publisher_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for r in clicks:
        rows[r["publisher_id"]]["clicks"] = r["n"]
    for r in convs:
        rows[r["publisher_id"]]["conversions"] = r["n"]
    return list(rows.values())


def offer_stats(*, advertiser_id: int) -> dict[int, dict[str, int]]:
    """30-day clicks and conversions per offer of one advertiser, for the offers table."""
    since = timezone.now() - timedelta(days=30)
    stats: dict[int, dict[str, int]] = defaultdict(lambda: {"clicks": 0, "conversions": 0, "publishers": 0})
    for r in (
        Click.objects.filter(offer__advertiser_id=advertiser_id, created_at__gte=since)
        .values("offer_id")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        stats[r["offer_id"]]["clicks"] = r["n"]
    for r in (
        Conversion.objects.filter(
            offer__advertiser_id=advertiser_id, created_at__gte=since, status__in=COUNTED
        )
        .values("offer_id")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        stats[r["offer_id"]]["conversions"] = r["n"]
    for r in (
        OfferAccess.objects.filter(offer__advertiser_id=advertiser_id, status=OfferAccess.Status.APPROVED)
        .values("offer_id")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        stats[r["offer_id"]]["publishers"] = r["n"]
    return stats


def traffic_kpis_network(*, start: datetime, end: datetime) -> dict[str, Any]:
    """The whole network's clicks, conversions, revenue and payout in [start, end), for staff."""
    money = (
        Commission.objects.filter(created_at__gte=start, created_at__lt=end, status__in=EARNING)
        .values("currency")
        .annotate(revenue=Sum("revenue"), payout=Sum("payout"))
    )
    return {
        "clicks": Click.objects.filter(created_at__gte=start, created_at__lt=end).count(),
        "conversions": Conversion.objects.filter(
            created_at__gte=start, created_at__lt=end, status__in=COUNTED
        ).count(),
        "revenue": {r["currency"]: r["revenue"] for r in money},
        "margin": {r["currency"]: r["revenue"] - r["payout"] for r in money},
    }
