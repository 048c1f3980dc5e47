"""Reads for a smart link's page and API: per-path numbers from the rollups, and the runs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone

from tracking.models.smartlinks import SmartLink, SmartPath, SmartPathDaily

ZERO = Decimal("0")


@dataclass(frozen=True)
class PathStats:
    path: SmartPath
    share: float  # of the live paths' weight (the catch-all: what the others refuse)
    clicks: int
    conversions: int
    revenue: Decimal
    payout: Decimal
    currency: str

    @property
    def percent(self) -> float:
        return self.share * 100

    @property
    def cvr(self) -> float:
        return self.conversions / self.clicks if self.clicks else 0.0

    @property
    def epc(self) -> Decimal:
        return (self.payout / self.clicks).quantize(Decimal("0.0001")) if self.clicks else ZERO


def window_start(smart: SmartLink, *, now: datetime | None = None) -> date:
    """The first day the optimiser reads: the look-back window, cut at the last learning reset."""
    now = now or timezone.now()
    return max((now - timedelta(days=smart.lookback_days - 1)).date(), smart.learning_since.date())


def path_stats(*, smart: SmartLink, since: date | None = None, until: date | None = None) -> list[PathStats]:
    """Each path's numbers on days ``since``..``until`` (default: the optimiser's window to
    today), from the rollups."""
    since = since or window_start(smart)
    days = SmartPathDaily.objects.filter(path__smart_link=smart, day__gte=since)
    if until is not None:
        days = days.filter(day__lte=until)
    paths = list(smart.paths.select_related("offer"))
    sums = {
        r["path_id"]: r
        for r in days.values("path_id").annotate(
            c=Sum("clicks"), v=Sum("conversions"), r=Sum("revenue"), p=Sum("payout")
        )
    }
    live = sum(p.weight for p in paths if not p.is_catch_all and p.status == SmartPath.Status.ACTIVE) or 1
    out = []
    for p in paths:
        s = sums.get(p.pk, {})
        active = not p.is_catch_all and p.status == SmartPath.Status.ACTIVE
        out.append(
            PathStats(
                path=p,
                share=p.weight / live if active else 0.0,
                clicks=int(s.get("c") or 0),
                conversions=int(s.get("v") or 0),
                revenue=s.get("r") or ZERO,
                payout=s.get("p") or ZERO,
                currency=p.offer.currency,
            )
        )
    return out
