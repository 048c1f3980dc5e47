"""The staff console's overview and its advertiser, publisher and offer pages. They show
commissions beside traffic, so they live in payouts.portal; the actions they post are
affiliates.portal.views_console's. Each page is ``staff_only``, its one authorisation point, and
reads its subject through affiliates.roles.visible."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from affiliates.audit import AuditFilters, audit_entries, audit_entries_visible, entry_rows
from affiliates.models import Advertiser, Offer, OfferAccess, Publisher
from affiliates.portal.access import PortalRequest, staff_only
from affiliates.portal.selectors import period_bounds
from affiliates.roles import Actor, visible
from affiliates.services import PUBLISHER_TRANSITIONS
from affiliates.staff_notes import staff_notes_for
from payouts.advertiser_payments import advertiser_balances
from payouts.models import Payout
from payouts.portal import console_selectors as sel
from payouts.selectors import publisher_summary
from tracking.portal.console_selectors import caps_near_limit, click_backlog, recent_conversions

PERIODS = {"today": "Today", "7d": "Last 7 days", "30d": "Last 30 days"}
ADVERTISER_ACTIONS = {
    "active": ["pause", "suspend"],
    "paused": ["activate", "suspend"],
    "suspended": ["activate"],
}
OFFER_ACTIONS = {"active": ["pause"], "paused": ["activate"], "expired": []}


def _period(request: PortalRequest) -> str:
    period = request.GET.get("period", "7d")
    return period if period in PERIODS else "7d"


def _common(request: PortalRequest, subject: Any, where: Q, top_by: str) -> dict[str, Any]:
    """What every detail page shows: KPIs against the previous period, the top offers or
    publishers, recent conversions and the staff notes."""
    period = _period(request)
    start, end = period_bounds(period)
    return {
        "subject": subject,
        "period": period,
        "periods": PERIODS,
        "tiles": sel.period_tiles(start=start, end=end, where=where),
        "top": sel.top_by(start=start, end=end, where=where, by=top_by),
        "top_by": top_by,
        "conversions": recent_conversions(where=where),
        "notes": staff_notes_for(subject=subject),
        "note_kind": subject._meta.model_name,
        # These actions open their confirm page (affiliates.portal.views_console.EFFECTS).
        "confirm": ("pause", "suspend", "reject"),
    }


def _activity(actor: Actor, **tenant: int) -> list[Any]:
    """Recent changes to the partner's account, offers and access (commissions and payouts
    change by the thousand: the audit log shows those)."""
    entries = audit_entries_visible(actor).filter(content_type__app_label="affiliates", **tenant)
    return entry_rows(entries[:8], actor)


@staff_only
def advertiser_page(request: PortalRequest, pk: int) -> HttpResponse:
    advertiser = get_object_or_404(visible(Advertiser.objects.all(), request.actor), pk=pk)
    context = _common(request, advertiser, Q(offer__advertiser_id=pk), "offer")
    context |= {
        "actions": ADVERTISER_ACTIONS.get(advertiser.status, []),
        "offers": advertiser.offers.order_by("status", "name")[:20],
        "balance": advertiser_balances(advertiser_id=pk),
        "caps": caps_near_limit(where=Q(offer__advertiser_id=pk)),
        "activity": _activity(request.actor, advertiser_id=pk),
    }
    return render(request, "payouts/portal/console/advertiser.html", context)


@staff_only
def publisher_page(request: PortalRequest, pk: int) -> HttpResponse:
    publisher = get_object_or_404(visible(Publisher.objects.all(), request.actor), pk=pk)
    context = _common(request, publisher, Q(publisher_id=pk), "offer")
    actions = [a for a, (sources, _) in PUBLISHER_TRANSITIONS.items() if publisher.status in sources]
    context |= {
        "actions": actions,
        "accesses": publisher.accesses.select_related("offer").order_by("-created_at")[:10],
        "summary": publisher_summary(publisher_id=pk),
        "payouts": Payout.objects.filter(publisher_id=pk).order_by("-period", "currency")[:6],
        "activity": _activity(request.actor, publisher_id=pk),
    }
    return render(request, "payouts/portal/console/publisher.html", context)


@staff_only
def offer_page(request: PortalRequest, pk: int) -> HttpResponse:
    qs = visible(Offer.objects.select_related("advertiser"), request.actor)
    offer = get_object_or_404(qs, pk=pk)
    context = _common(request, offer, Q(offer_id=pk), "publisher")
    filters = AuditFilters(object_type="offer", object_id=pk)
    context |= {
        "actions": OFFER_ACTIONS.get(offer.status, []),
        "goals": offer.goals.order_by("-is_default", "code"),
        "caps": offer.caps.select_related("publisher"),
        "caps_near": caps_near_limit(where=Q(offer_id=pk)),
        "running": offer.accesses.filter(status=OfferAccess.Status.APPROVED).count(),
        "pending": offer.accesses.filter(status=OfferAccess.Status.PENDING).count(),
        "coupons": offer.coupons.filter(active=True).count(),
        "creatives": offer.creatives.filter(active=True).order_by("name")[:10],
        "activity": entry_rows(audit_entries(actor=request.actor, filters=filters)[:8], request.actor),
    }
    return render(request, "payouts/portal/console/offer.html", context)


@staff_only
def staff_home(request: PortalRequest) -> HttpResponse:
    now = timezone.now()
    network = sel.network_so_far(now=now)
    risers, fallers = sel.top_movers(now=now)
    context = {
        "now": now,
        "tiles": sel.tiles(
            network.today, ("yesterday", network.yesterday), ("7-day average", network.week_average)
        ),
        "risers": risers,
        "fallers": fallers,
        "caps": caps_near_limit(now=now)[:10],
        "waiting": sel.waiting_for_staff(now=now),
        "backlog": click_backlog(),
        "offers_live": Offer.objects.filter(status=Offer.Status.ACTIVE).count(),
    }
    return render(request, "payouts/portal/console/home.html", context)
