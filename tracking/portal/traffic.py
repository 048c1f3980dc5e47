"""Reads for the portal's traffic tiles and tables: clicks and counted conversions per tenant.

They read the raw click and conversion tables over a bounded window (at most 30 days, on indexed
(tenant, time) columns); the reports pages read rollups instead, and these stay on raw rows so
today's numbers are exact to the last postback. The money beside them is payouts' (payouts.portal).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate

from affiliates.models import OfferAccess
from tracking.models import Click, Conversion
from tracking.models.conversions import ConversionStatus

COUNTED = [ConversionStatus.PENDING, ConversionStatus.APPROVED]


def tenant_filter(*, publisher_id: int | None, advertiser_id: int | None, offer_path: str) -> Q:
    """A publisher's rows, or an advertiser's through ``offer_path`` (its offers)."""
    if publisher_id is not None:
        return Q(publisher_id=publisher_id)
    return Q(**{offer_path: advertiser_id})


def traffic_counts(
    *, start: datetime, end: datetime, publisher_id: int | None = None, advertiser_id: int | None = None
) -> tuple[int, int]:
    """Clicks and counted conversions for one tenant in [start, end)."""
    who = tenant_filter(
        publisher_id=publisher_id, advertiser_id=advertiser_id, offer_path="offer__advertiser_id"
    )
    clicks = Click.objects.filter(who, created_at__gte=start, created_at__lt=end).count()
    conversions = Conversion.objects.filter(
        who, created_at__gte=start, created_at__lt=end, status__in=COUNTED
    ).count()
    return clicks, conversions


def conversions_held_count(*, where: Q | None = None) -> int:
    """Conversions held for fraud review and not yet decided (the staff overview's queue);
    ``where`` narrows them (an account manager's accounts)."""
    held = Conversion.objects.filter(held_for_review=True, status=ConversionStatus.PENDING)
    return held.filter(where or Q()).count()


@dataclass
class DailySeries:
    days: list[date]
    clicks: list[int]
    conversions: list[int]

    @property
    def labels(self) -> list[str]:
        return [d.strftime("%b %d") for d in self.days]


def traffic_daily(
    *,
    first: date,
    last: date,
    start: datetime,
    end: datetime,
    publisher_id: int | None = None,
    advertiser_id: int | None = None,
) -> DailySeries:
    """Clicks and counted conversions per UTC day ``first``..``last`` (a page's date range,
    whose instants are [start, end)), zeros included."""
    who = tenant_filter(
        publisher_id=publisher_id, advertiser_id=advertiser_id, offer_path="offer__advertiser_id"
    )

    def per_day(qs: QuerySet[Any]) -> dict[date, int]:
        rows = qs.filter(who, created_at__gte=start, created_at__lt=end).annotate(d=TruncDate("created_at"))
        return {r["d"]: r["n"] for r in rows.values("d").annotate(n=Count("pk")).order_by()}

    clicks = per_day(Click.objects.all())
    conversions = per_day(Conversion.objects.filter(status__in=COUNTED))
    span = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    return DailySeries(
        days=span, clicks=[clicks.get(d, 0) for d in span], conversions=[conversions.get(d, 0) for d in span]
    )


def advertiser_publishers(*, advertiser_id: int, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Publishers with access to this advertiser's offers: their offers and their clicks and
    counted conversions in [start, end)."""
    rows: dict[int, dict[str, Any]] = {}
    accesses = (
        OfferAccess.objects.filter(offer__advertiser_id=advertiser_id, status=OfferAccess.Status.APPROVED)
        .select_related("publisher", "offer")
        .order_by("publisher__name")
    )
    for a in accesses:
        row = rows.setdefault(
            a.publisher_id,
            {"publisher": a.publisher, "offers": [], "accesses": [], "clicks": 0, "conversions": 0},
        )
        row["offers"].append(a.offer)
        row["accesses"].append(a)  # the page's "remove from offer" links need the access
    clicks = (
        Click.objects.filter(
            offer__advertiser_id=advertiser_id,
            created_at__gte=start,
            created_at__lt=end,
            publisher_id__in=rows,
        )
        .values("publisher_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    convs = (
        Conversion.objects.filter(
            offer__advertiser_id=advertiser_id,
            created_at__gte=start,
            created_at__lt=end,
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


def offer_stats(*, advertiser_id: int, start: datetime, end: datetime) -> dict[int, dict[str, int]]:
    """Clicks and counted conversions in [start, end) and approved publishers per offer of one
    advertiser, for the offers table."""
    stats: dict[int, dict[str, int]] = defaultdict(lambda: {"clicks": 0, "conversions": 0, "publishers": 0})
    for r in (
        Click.objects.filter(offer__advertiser_id=advertiser_id, created_at__gte=start, created_at__lt=end)
        .values("offer_id")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        stats[r["offer_id"]]["clicks"] = r["n"]
    for r in (
        Conversion.objects.filter(
            offer__advertiser_id=advertiser_id, created_at__gte=start, created_at__lt=end, status__in=COUNTED
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
