"""Modelled incrementality, Impact-style, for offers where no holdout is possible.

For each order (an attributed conversion), the touches are the clicks of the same visitor (IP
and user agent, the key the holdout assignment uses) on the same offer within the offer's
attribution window before the order. Each publisher that touched the order gets an equal
fractional credit (1 / the number of publishers that touched it). A publisher's modelled
incrementality is its fractional credit / the orders it touched: 1.0 when it is alone on every
order it touches (nothing suggests the order would have happened without it), lower the more
its orders were also touched by others.

Bounded reads: the offer's conversions in the period (at most MAX_ORDERS, newest first), and
its clicks from those visitors' IPs in the period plus the window (the click_offer_ip_time
index).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q

from affiliates.models import Offer, Publisher
from tracking.models import Click, Conversion
from tracking.models.conversions import ConversionStatus
from tracking.reasons import Reason

MAX_ORDERS = 5000


@dataclass(frozen=True)
class PublisherIncrementality:
    publisher_id: int
    publisher_name: str
    orders_touched: int
    fractional_credit: float
    incrementality: float
    last_click_orders: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _orders(offer: Offer, start: datetime, end: datetime) -> list[tuple[int, datetime, str, str, int | None]]:
    rows = (
        Conversion.objects.filter(
            Q(status__in=(ConversionStatus.PENDING, ConversionStatus.APPROVED))
            | Q(status=ConversionStatus.REJECTED, reason=Reason.HOLDOUT_CONTROL),
            offer=offer,
            created_at__gte=start,
            created_at__lt=end,
            click_id__isnull=False,
        )
        .order_by("-created_at")
        .values_list("id", "created_at", "click__ip", "click__user_agent", "publisher_id")[:MAX_ORDERS]
    )
    return list(rows)


def modelled_incrementality(*, offer: Offer, start: datetime, end: datetime) -> list[PublisherIncrementality]:
    """Each publisher that touched the offer's orders in [start, end), most credit first."""
    orders = _orders(offer, start, end)
    if not orders:
        return []
    window = timedelta(days=offer.attribution_window_days)
    ips = {ip for _, _, ip, _, _ in orders if ip}
    touches: dict[tuple[str, str], list[tuple[datetime, int]]] = defaultdict(list)
    clicks = Click.objects.filter(
        offer=offer, ip__in=ips, created_at__gte=start - window, created_at__lt=end, reason=""
    ).values_list("ip", "user_agent", "created_at", "publisher_id")
    for ip, ua, at, publisher_id in clicks.iterator(chunk_size=5000):
        touches[(ip, ua)].append((at, publisher_id))
    credit: dict[int, float] = defaultdict(float)
    touched: dict[int, int] = defaultdict(int)
    last_click: dict[int, int] = defaultdict(int)
    for _, at, ip, ua, closer in orders:
        publishers = {p for t, p in touches.get((ip, ua), ()) if at - window <= t <= at}
        if closer is not None:
            publishers.add(closer)  # the attributed click is a touch even if its IP was masked
            last_click[closer] += 1
        for p in publishers:
            credit[p] += 1 / len(publishers)
            touched[p] += 1
    names = dict(Publisher.objects.filter(pk__in=touched).values_list("pk", "name"))
    out = [
        PublisherIncrementality(
            p, names.get(p, str(p)), touched[p], credit[p], credit[p] / touched[p], last_click[p]
        )
        for p in touched
    ]
    return sorted(out, key=lambda r: (-r.fractional_credit, r.publisher_id))
