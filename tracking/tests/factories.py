"""Clicks made directly in the database, never through the click endpoint: the one helper every
test that needs a click to attribute to uses (conversions, portals, payouts, browser tours)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from affiliates.models import Offer, Publisher
from tracking.ids import new_click_id
from tracking.models import Click
from tracking.models.smartlinks import SmartPath, SmartPathDaily

CHROME_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36"
)
HOME_IP = "81.2.69.160"  # GB, a residential ISP in geoip2fast's data

# A plausible visitor: a desktop Chrome user in the UK, from a newsletter campaign.
CLICK_DEFAULTS: dict[str, Any] = {
    "ip": HOME_IP,
    "user_agent": CHROME_UA,
    "country": "GB",
    "device": "desktop",
    "os": "windows",
    "sub1": "campaign-7",
    "source": "newsletter",
}


def click_make(
    offer: Offer,
    publisher: Publisher,
    *,
    at: datetime | None = None,
    ago: timedelta = timedelta(minutes=5),
    **fields: Any,
) -> Click:
    """A stored click on ``offer`` by ``publisher``, at ``at`` (default: ``ago`` before now, so a
    conversion posted now comes a plausible while after it). ``fields`` override the visitor."""
    at = at or timezone.now() - ago
    return Click.objects.create(
        id=new_click_id(int(at.timestamp() * 1000)),
        offer=offer,
        publisher=publisher,
        created_at=at,
        **{**CLICK_DEFAULTS, **fields},
    )


def smart_path_day_make(
    *, path: SmartPath, clicks: int, conversions: int, days_ago: int = 0
) -> SmartPathDaily:
    """A smart-link path's daily rollup row, ``days_ago`` days before today, in USD: 3.00 of
    revenue and 2.00 of payout per conversion."""
    return SmartPathDaily.objects.create(
        path=path,
        day=timezone.now().date() - timedelta(days=days_ago),
        clicks=clicks,
        conversions=conversions,
        currency="USD",
        revenue=Decimal(conversions * 3),
        payout=Decimal(conversions * 2),
    )
