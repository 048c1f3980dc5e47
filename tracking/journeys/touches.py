"""A conversion's touches: which clicks, impressions and coupon make up its journey.

Linked, in this order, by
- the click id chain: the conversion's click and the clicks attribution looked at (its trace);
- the customer: the clicks behind the same customer's (hashed id) earlier conversions with the
  advertiser within the window;
- the visitor key: the stored IP and user agent of those clicks (what the first-party click
  cookie stands for across publishers: the cookie is per offer and holds one click) and, for
  a pixel, of the conversion itself: every click on the offer from that visitor in the window;
- impressions of the same visitor keys, where the offer enables view-through, within its view
  window; and a coupon conversion's coupon, a touch of the coupon's publisher at conversion time.

Every read is bounded by the offer and the attribution window (the click_offer_ip_time and
impression_offer_pub_time indexes); no lookup scans clicks beyond that window.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from affiliates.models import Offer
from tracking.models import Click, Conversion, Impression
from tracking.models.journeys import TouchKind

#: A journey keeps at most this many touches (the latest): a visitor clicking a hundred times
#: is noise, and a trace must stay readable.
MAX_TOUCHES = 50
#: Visitor keys followed per conversion: a shared IP behind many user agents is not one visitor.
MAX_VISITORS = 10
VALID = ("pending", "approved")


@dataclass(frozen=True)
class Found:
    kind: str
    at: datetime
    publisher_id: int
    linked_by: str
    click_id: uuid.UUID | None = None
    impression_id: uuid.UUID | None = None
    sub1: str = ""
    source: str = ""

    @property
    def key(self) -> Any:
        return self.click_id or self.impression_id or ("coupon", self.at)


def _from_click(click: Click, linked_by: str) -> Found:
    return Found(
        TouchKind.CLICK,
        click.created_at,
        click.publisher_id,
        linked_by,
        click_id=click.id,
        sub1=click.sub1,
        source=click.source,
    )


def _from_impression(view: Impression) -> Found:
    return Found(
        TouchKind.IMPRESSION,
        view.created_at,
        view.publisher_id,
        "impression",
        impression_id=view.id,
        sub1=view.sub1,
        source=view.source,
    )


def _trace_click_ids(trace: dict[str, Any]) -> set[uuid.UUID]:
    attribution = trace.get("attribution") or {}
    raw = [attribution.get("click_id"), *(a.get("click_id") for a in attribution.get("alternatives") or [])]
    ids = set()
    for value in raw:
        try:
            ids.add(uuid.UUID(value))
        except (TypeError, ValueError):
            continue
    return ids


def view_through_impression_id(trace: dict[str, Any]) -> uuid.UUID | None:
    """The impression a view-through conversion was attributed to (attribution.impression_id)."""
    try:
        return uuid.UUID((trace.get("attribution") or {}).get("impression_id"))
    except (TypeError, ValueError):
        return None


def _customer_click_ids(conv: Conversion, since: datetime) -> set[uuid.UUID]:
    if not conv.customer_hash or conv.advertiser_id is None:
        return set()
    return set(
        Conversion.objects.filter(
            advertiser_id=conv.advertiser_id,
            customer_hash=conv.customer_hash,
            created_at__gte=since,
            created_at__lt=conv.created_at,
            click_id__isnull=False,
        )
        .exclude(pk=conv.pk)
        .values_list("click_id", flat=True)[:MAX_TOUCHES]
    )


def _visitor_clicks(
    offer: Offer, visitors: set[tuple[str, str]], since: datetime, until: datetime
) -> list[Click]:
    ips = {ip for ip, _ in visitors}
    rows = Click.objects.filter(
        offer_id=offer.id, ip__in=ips, reason="", created_at__gte=since, created_at__lte=until
    ).order_by("-created_at")[: MAX_TOUCHES * 2]
    return [c for c in rows if (c.ip, c.user_agent) in visitors]


def _impressions(offer: Offer, visitors: set[tuple[str, str]], until: datetime) -> list[Found]:
    since = until - timedelta(hours=offer.view_through_window_hours)
    rows = Impression.objects.filter(
        offer_id=offer.id, ip__in={ip for ip, _ in visitors}, created_at__gte=since, created_at__lte=until
    ).order_by("-created_at")[:MAX_TOUCHES]
    return [_from_impression(i) for i in rows if (i.ip, i.user_agent) in visitors and not i.fraud_flags]


def journey_touches(conv: Conversion, offer: Offer) -> tuple[list[Found], Any]:
    """The conversion's touches in time order (at most MAX_TOUCHES, the latest) and the key of
    the touch it was paid through (None when that touch is not among them)."""
    until = conv.created_at
    since = until - timedelta(days=offer.attribution_window_days)
    chain = _trace_click_ids(conv.trace or {})
    if conv.click_id:
        chain.add(conv.click_id)
    customer = _customer_click_ids(conv, since) - chain
    clicks = {
        c.id: c for c in Click.objects.filter(id__in=chain | customer) if since <= c.created_at <= until
    }
    found: dict[Any, Found] = {
        cid: _from_click(c, "click_id" if cid in chain else "customer") for cid, c in clicks.items()
    }
    visitors = {(c.ip, c.user_agent) for c in clicks.values() if c.ip and c.user_agent}
    if conv.ip and conv.user_agent:
        visitors.add((conv.ip, conv.user_agent))
    visitors = set(sorted(visitors)[:MAX_VISITORS])
    if visitors:
        for c in _visitor_clicks(offer, visitors, since, until):
            found.setdefault(c.id, _from_click(c, "visitor"))
        if offer.view_through_enabled:
            for imp in _impressions(offer, visitors, until):
                found.setdefault(imp.key, imp)
    paid: Any = conv.click_id
    vt = view_through_impression_id(conv.trace or {})
    if vt is not None:
        view = Impression.objects.filter(pk=vt).first()
        if view is not None:
            found.setdefault(vt, _from_impression(view))
            paid = vt
    if conv.source == Conversion.Source.COUPON and conv.publisher_id:
        coupon = Found(TouchKind.COUPON, until, conv.publisher_id, "coupon")
        found[coupon.key] = coupon
        paid = coupon.key
    ordered = sorted(found.values(), key=lambda f: (f.at, str(f.key)))
    if offer.attribution_model == Offer.Attribution.LAST_CLICK and paid in found:
        # The advertiser reported the paid click as the visitor's latest: later clicks of the
        # same key did not lead to this conversion.
        cut = ordered.index(found[paid])
        ordered = ordered[: cut + 1]
    return ordered[-MAX_TOUCHES:], paid
