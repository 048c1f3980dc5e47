"""The staff console's overview and its advertiser, publisher and offer pages. They show
commissions beside traffic, so they live in payouts.portal; the actions they post are
affiliates.portal.views_console's. Each page is ``staff_only``, its one authorisation point, and
reads its subject through affiliates.roles.visible."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from affiliates.audit import AuditFilters, audit_entries, audit_entries_visible, entry_rows
from affiliates.models import Advertiser, Offer, OfferAccess, Publisher
from affiliates.portal.access import PortalRequest, staff_only
from affiliates.portal.daterange import date_range_context, date_range_or_default
from affiliates.roles import Actor, scope_q, visible
from affiliates.services import PUBLISHER_TRANSITIONS
from affiliates.staff_notes import staff_notes_for
from payouts.advertiser_payments import advertiser_balances
from payouts.models import Payout
from payouts.portal import console_selectors as sel
from payouts.reporting_money import Converted, Rates, money_convert, rates_at, reporting_currency_for
from payouts.selectors import publisher_summary
from tracking.portal.console_selectors import caps_near_limit, click_backlog, recent_conversions

ADVERTISER_ACTIONS = {
    "active": ["pause", "suspend"],
    "paused": ["activate", "suspend"],
    "suspended": ["activate"],
}
OFFER_ACTIONS = {"active": ["pause"], "paused": ["activate"], "expired": []}


def _common(request: PortalRequest, subject: Any, where: Q, top_by: str) -> dict[str, Any]:
    """What every detail page shows: KPIs against the previous period, the top offers or
    publishers, recent conversions and the staff notes. Money is in the network's reporting
    currency (staff have no account of their own) at the rates in force at the range's end."""
    chosen, error = date_range_or_default(params=request.GET)
    start, end = chosen.start, chosen.end
    before = chosen.previous()
    currency, rates = reporting_currency_for(account=None), rates_at(at=end)
    return {
        **date_range_context(request.GET, chosen, error),
        "currency": currency,
        "rates": rates,
        "status": 400 if error else 200,
        "subject": subject,
        "tiles": sel.period_tiles(
            start=start,
            end=end,
            where=where,
            previous=(before.start, before.end),
            currency=currency,
            rates=rates,
        ),
        "top": sel.top_by(start=start, end=end, where=where, by=top_by, currency=currency, rates=rates),
        "top_by": top_by,
        "conversions": recent_conversions(where=where),
        "notes": staff_notes_for(subject=subject),
        "note_kind": subject._meta.model_name,
        # These actions open their confirm page (affiliates.portal.views_console.EFFECTS).
        "confirm": ("pause", "suspend", "reject"),
    }


def _balance_totals(
    summary: dict[str, dict[str, Decimal]], *, currency: str, rates: Rates
) -> dict[str, Converted]:
    """The publisher's pending, approved and paid columns, each as one converted total."""
    return {
        column: money_convert(
            amounts={cur: s[column] for cur, s in summary.items()}, currency=currency, rates=rates
        )
        for column in ("pending", "approved", "paid")
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
        "balance": money_convert(
            amounts=advertiser_balances(advertiser_id=pk),
            currency=context["currency"],
            rates=context["rates"],
        ),
        "caps": caps_near_limit(where=Q(offer__advertiser_id=pk)),
        "activity": _activity(request.actor, advertiser_id=pk),
    }
    return render(request, "payouts/portal/console/advertiser.html", context, status=context["status"])


@staff_only
def publisher_page(request: PortalRequest, pk: int) -> HttpResponse:
    publisher = get_object_or_404(visible(Publisher.objects.all(), request.actor), pk=pk)
    context = _common(request, publisher, Q(publisher_id=pk), "offer")
    actions = [a for a, (sources, _) in PUBLISHER_TRANSITIONS.items() if publisher.status in sources]
    summary = publisher_summary(publisher_id=pk)
    context |= {
        "actions": actions,
        "accesses": publisher.accesses.select_related("offer").order_by("-created_at")[:10],
        "summary": summary,
        "summary_totals": _balance_totals(summary, currency=context["currency"], rates=context["rates"]),
        "payouts": Payout.objects.filter(publisher_id=pk).order_by("-period", "currency")[:6],
        "activity": _activity(request.actor, publisher_id=pk),
    }
    return render(request, "payouts/portal/console/publisher.html", context, status=context["status"])


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
    return render(request, "payouts/portal/console/offer.html", context, status=context["status"])


@staff_only
def staff_home(request: PortalRequest) -> HttpResponse:
    now = timezone.now()
    actor = request.actor
    offers = visible(Offer.objects.all(), actor)
    if actor.is_account_manager:  # their accounts' traffic and money, not the network's
        network = sel.accounts_so_far(
            now=now,
            where=scope_q(actor, advertiser_path="offer__advertiser_id", publisher_path="publisher_id"),
        )
    else:
        network = sel.network_so_far(now=now)
    risers, fallers = sel.top_movers(now=now, offers=offers)
    currency = reporting_currency_for(account=None)
    context = {
        "now": now,
        "currency": currency,
        "tiles": sel.tiles(
            network.today,
            ("yesterday", network.yesterday),
            ("7-day average", network.week_average),
            currency=currency,
            rates=rates_at(at=now),
        ),
        "risers": risers,
        "fallers": fallers,
        "caps": caps_near_limit(now=now, where=Q(offer__in=offers))[:10],
        "waiting": sel.waiting_for_staff(now=now, actor=actor),
        "backlog": click_backlog(),
        "offers_live": offers.filter(status=Offer.Status.ACTIVE).count(),
    }
    return render(request, "payouts/portal/console/home.html", context)
