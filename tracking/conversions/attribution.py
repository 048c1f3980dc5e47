"""Which click a conversion is credited to, and under which model.

- Last click (default): the click the advertiser reports (its landing page received the latest
  click id), or for the pixel the click in the ``affc_<offer>`` cookie, which every click
  overwrites.
- First click: the earliest click *of the same visitor* on the same offer within the offer's
  attribution window. A visitor is recognised by the first-click cookie ``afff_<offer>``
  (tracking.ids.click_first_cookie_name; pixel, when the click endpoint set it) or else by the
  same stored IP and user agent as the reported click. Only clicks that were sent to the offer
  count (a click sent to a fallback never saw this offer), and never one after the reported click.
- Pixel without a cookie: the visitor's latest (or first) click on the offer by IP and user
  agent within the window; the conversion is flagged ``pixel_without_cookie``.
- View-through (offers that enable it): a pixel with no click at all goes to the visitor's
  latest valid impression (same IP and user agent) within the offer's view window, labelled
  ``by: view_through`` and priced by the offer's view-through goal.
Every candidate looked at is kept in the trace as an alternative.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from affiliates.models import Offer
from tracking.conversions.click_lookup import ClickLookupUnavailable, click_find
from tracking.conversions.offload import blocking_io
from tracking.models import Click, Impression

MAX_CANDIDATES = 20


@dataclass
class Attribution:
    click: Click | None
    model: str
    by: str  # click_id, cookie, first_click_cookie, ip_ua, coupon, none
    alternatives: list[Click] = field(default_factory=list)
    note: str = ""
    impression: Impression | None = None

    def trace(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "by": self.by,
            "click_id": self.click.id.hex if self.click else None,
            "publisher_id": self.click.publisher_id if self.click else None,
            "click_time": self.click.created_at.isoformat() if self.click else None,
            "alternatives": [
                {"click_id": c.id.hex, "publisher_id": c.publisher_id, "click_time": c.created_at.isoformat()}
                for c in self.alternatives
            ],
            "note": self.note,
            **(
                {
                    "impression_id": self.impression.id.hex,
                    "publisher_id": self.impression.publisher_id,
                    "impression_time": self.impression.created_at.isoformat(),
                }
                if self.impression
                else {}
            ),
        }


def _window_start(offer: Offer, now: datetime) -> datetime:
    return now - timedelta(days=offer.attribution_window_days)


def _same_visitor(offer: Offer, ip: str, user_agent: str, since: datetime, until: datetime) -> list[Click]:
    if not ip or not user_agent:
        return []
    blocking_io("clicks of the same visitor")
    return list(
        Click.objects.filter(
            offer_id=offer.id,
            ip=ip,
            user_agent=user_agent,
            reason="",
            created_at__gte=since,
            created_at__lte=until,
        ).order_by("created_at", "id")[:MAX_CANDIDATES]
    )


def attribute_click(*, click: Click, offer: Offer, now: datetime, by: str = "click_id") -> Attribution:
    """Credit a reported click (postback click id or pixel cookie) under the offer's model."""
    if offer.attribution_model != Offer.Attribution.FIRST_CLICK:
        return Attribution(click, Offer.Attribution.LAST_CLICK, by, note="the reported click")
    earlier = _same_visitor(offer, click.ip, click.user_agent, _window_start(offer, now), click.created_at)
    first = earlier[0] if earlier and earlier[0].created_at < click.created_at else click
    others = list({c.id: c for c in [*earlier, click] if c.id != first.id}.values())
    note = "earliest click of the same IP and user agent" if first.id != click.id else "no earlier click"
    return Attribution(first, Offer.Attribution.FIRST_CLICK, by, others, note)


def attribute_pixel(
    *,
    offer: Offer,
    now: datetime,
    cookie_click_id: uuid.UUID | None,
    first_cookie_click_id: uuid.UUID | None,
    ip: str,
    user_agent: str,
) -> Attribution:
    """The pixel's click: from the click cookie, or by IP and user agent without one."""
    model = offer.attribution_model
    cookie_click = _offer_click(cookie_click_id, offer)
    if model == Offer.Attribution.FIRST_CLICK:
        first = _offer_click(first_cookie_click_id, offer)
        if first is not None and first.created_at >= _window_start(offer, now):
            others = [cookie_click] if cookie_click and cookie_click.id != first.id else []
            return Attribution(first, model, "first_click_cookie", others, "the first-click cookie")
    if cookie_click is not None:
        return attribute_click(click=cookie_click, offer=offer, now=now, by="cookie")
    candidates = _same_visitor(offer, ip, user_agent, _window_start(offer, now), now)
    if not candidates:
        seen = _view(offer, ip, user_agent, now) if offer.view_through_enabled else None
        if seen is not None:
            return Attribution(
                None, model, "view_through", impression=seen, note="no click: the latest impression"
            )
        return Attribution(None, model, "none", note="no click cookie and no click from this IP and UA")
    chosen = candidates[0] if model == Offer.Attribution.FIRST_CLICK else candidates[-1]
    others = [c for c in candidates if c.id != chosen.id]
    return Attribution(chosen, model, "ip_ua", others, "no click cookie: matched by IP and user agent")


def _view(offer: Offer, ip: str, user_agent: str, now: datetime) -> Impression | None:
    """The visitor's latest valid impression of the offer within its view window."""
    if not ip or not user_agent:
        return None
    blocking_io("impressions of the same visitor")
    since = now - timedelta(hours=offer.view_through_window_hours)
    seen = Impression.objects.filter(
        offer_id=offer.id, ip=ip, user_agent=user_agent, created_at__gte=since, created_at__lte=now
    ).order_by("-created_at", "-id")[:MAX_CANDIDATES]
    return next((i for i in seen if not i.fraud_flags), None)


def _offer_click(click_id: uuid.UUID | None, offer: Offer) -> Click | None:
    """The pixel's cookie click on this offer. A lookup that cannot answer (Redis down, the
    click maybe still in a spool) counts as no cookie here: a browser cannot retry a pixel, so
    it is matched by IP and user agent, or kept as rejected, rather than lost."""
    if click_id is None:
        return None
    try:
        click = click_find(click_id=click_id)
    except ClickLookupUnavailable:
        return None
    return click if click is not None and click.converting_offer_id == offer.id else None
