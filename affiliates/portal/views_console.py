"""The staff console's partner pages: advertisers, publishers, offers, accesses and FX rates
(lists), and the actions their detail pages post (the detail pages show money, so they are
payouts.portal's). Every page is ``staff_only``, its one authorisation point; every list reads
through affiliates.roles.visible and every action asks roles.may_manage, then one service."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from affiliates.core.errors import DomainError
from affiliates.models import Advertiser, Offer, Publisher
from affiliates.portal import console_lists as lists
from affiliates.portal.access import PortalRequest, staff_act, staff_only
from affiliates.portal.confirm import confirm_page, confirmed
from affiliates.portal.tables import table_render
from affiliates.roles import Act, may_manage, visible
from affiliates.services import instance_update, offer_update, publisher_transition
from affiliates.staff_notes import staff_note_add

ADMIN = "admin:affiliates_{}_changelist"


@staff_only
def advertisers(request: PortalRequest) -> HttpResponseBase:
    return table_render(
        request,
        lists.advertisers_for(request.actor),
        lists.ADVERTISERS,
        label="Advertisers",
        rows="portal/console/rows_advertisers.html",
    )


@staff_only
def publishers(request: PortalRequest) -> HttpResponseBase:
    return table_render(
        request,
        lists.publishers_for(request.actor),
        lists.PUBLISHERS,
        label="Publishers",
        rows="portal/console/rows_publishers.html",
        links=[{"url": reverse("portal:staff-publishers") + "?status=pending", "label": "Sign-up queue"}],
    )


@staff_only
def offers(request: PortalRequest) -> HttpResponseBase:
    return table_render(
        request,
        lists.offers_for(request.actor),
        lists.OFFERS,
        label="Offers",
        rows="portal/console/rows_offers.html",
        links=[
            {"url": reverse("portal:staff-offer-new"), "label": "New offer"},
            {"url": reverse("portal:staff-coupons"), "label": "Coupons"},
            {"url": reverse("portal:staff-creatives"), "label": "Creatives"},
            {"url": reverse("tracking_portal:smart-links"), "label": "Smart links"},
            {"url": reverse("automation_portal:rules"), "label": "Rules"},
        ],
    )


@staff_only
def accesses(request: PortalRequest) -> HttpResponseBase:
    return table_render(
        request,
        lists.accesses_for(request.actor),
        lists.ACCESSES,
        label="Offer access",
        sub="Who runs which offer. Pending requests are decided here or in the queue.",
        rows="portal/console/rows_accesses.html",
    )


@staff_only
def coupons(request: PortalRequest) -> HttpResponseBase:
    return table_render(
        request,
        lists.coupons_for(request.actor),
        lists.COUPONS,
        label="Coupons",
        sub="Codes that credit a publisher with a conversion when the sale reports them.",
        rows="portal/console/rows_coupons.html",
        links=[{"url": reverse("admin:affiliates_coupon_add"), "label": "Add a coupon"}],
    )


@staff_only
def creatives(request: PortalRequest) -> HttpResponseBase:
    return table_render(
        request,
        lists.creatives_for(request.actor),
        lists.CREATIVES,
        label="Creatives",
        sub="Banners, text, HTML and e-mail bodies publishers run; edited on each offer's form.",
        rows="portal/console/rows_creatives.html",
    )


@staff_only
def fx_rates(request: PortalRequest) -> HttpResponseBase:
    return table_render(
        request,
        lists.fx_rates_for(request.actor),
        lists.FX_RATES,
        label="FX rates",
        sub="An amount is converted at the rate in force at its conversion's time.",
        rows="portal/console/rows_fx.html",
        links=[{"url": reverse("admin:affiliates_fxrate_add"), "label": "Enter a rate"}],
    )


# --- Actions the detail pages post -----------------------------------------------------------

ADVERTISER_STATUSES = {"activate": "active", "pause": "paused", "suspend": "suspended"}
OFFER_STATUSES = {"pause": "paused", "activate": "active"}

#: What each destructive action does, for its confirm page (affiliates.portal.confirm); an
#: action not listed here (activate, approve) is done at once.
EFFECTS: dict[tuple[str, str], list[str]] = {
    ("advertiser", "pause"): [
        "Sets {name}'s status to paused. Its offers and their tracking links are not changed.",
        "Activate undoes it.",
    ],
    ("advertiser", "suspend"): [
        "Suspends {name}: its team can still sign in and read, but can no longer create or change "
        "offers, goals, caps, custom payouts or coupons, nor decide access requests or conversions "
        "(403 account_suspended in the portal and the API).",
        "Its offers keep their status; pause them separately to stop their traffic.",
        "Activate undoes it.",
    ],
    ("publisher", "reject"): [
        "Rejects {name}'s sign-up: it cannot apply to offers, and advertisers cannot approve it onto theirs.",
        "The publisher is told by e-mail and in the portal. Approve undoes it later.",
    ],
    ("publisher", "suspend"): [
        "Suspends {name}: it cannot apply to offers or manage postbacks, advertisers cannot approve it "
        "onto their offers, and its payouts in the next run are held (publisher_suspended).",
        "Approve makes it active again; held money is paid by the next run after that.",
    ],
    ("offer", "pause"): [
        "Pauses {name}: its tracking links send clicks to its fallback offer or URL instead of the "
        "landing page, and its publishers are told it paused.",
        "Conversions of earlier clicks are still recorded. Activate undoes it.",
    ],
}


def _detail(kind: str, pk: int) -> HttpResponse:
    return redirect(f"payouts_portal:staff-{kind}", pk)


def _confirm_first(request: PortalRequest, kind: str, subject: Any, action: str) -> HttpResponse | None:
    """The confirm page, until a destructive action is posted with its box ticked; None: go on.
    A GET never acts: a link (or a prefetch) only ever shows the page."""
    effects = EFFECTS.get((kind, action))
    if effects is None and request.method == "POST":
        return None
    if effects is not None and confirmed(request):
        return None
    if effects is None:
        raise Http404("This action is posted from the detail page.")
    return confirm_page(
        request,
        title=f"{action.capitalize()} {subject.name}",
        effects=[e.format(name=subject.name) for e in effects],
        action=request.path,
        button=action.capitalize(),
        cancel=reverse(f"payouts_portal:staff-{kind}", args=[subject.pk]),
    )


@require_http_methods(["GET", "POST"])
@staff_only
@staff_act(Act.MANAGE_OFFERS)
def advertiser_action(request: PortalRequest, pk: int, action: str) -> HttpResponse:
    advertiser = get_object_or_404(visible(Advertiser.objects.all(), request.actor), pk=pk)
    status = ADVERTISER_STATUSES.get(action)
    if status is None or not may_manage(request.actor, advertiser):
        raise Http404("No such action.")
    if (page := _confirm_first(request, "advertiser", advertiser, action)) is not None:
        return page
    try:
        instance_update(instance=advertiser, status=status)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{advertiser.name} is now {status}.")
    return _detail("advertiser", pk)


@require_http_methods(["GET", "POST"])
@staff_only
@staff_act(Act.DECIDE_SIGNUPS)
def publisher_action(request: PortalRequest, pk: int, action: str) -> HttpResponse:
    publisher = get_object_or_404(visible(Publisher.objects.all(), request.actor), pk=pk)
    if action not in ("approve", "reject", "suspend") or not may_manage(request.actor, publisher):
        raise Http404("No such action.")
    if (page := _confirm_first(request, "publisher", publisher, action)) is not None:
        return page
    try:
        publisher = publisher_transition(publisher=publisher, action=action, by=request.user)  # type: ignore[arg-type]
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{publisher.name} is now {publisher.status}.")
    return _detail("publisher", pk)


@require_http_methods(["GET", "POST"])
@staff_only
@staff_act(Act.MANAGE_OFFERS)
def offer_action(request: PortalRequest, pk: int, action: str) -> HttpResponse:
    offer = get_object_or_404(visible(Offer.objects.all(), request.actor), pk=pk)
    status = OFFER_STATUSES.get(action)
    if status is None or not may_manage(request.actor, offer):
        raise Http404("No such action.")
    if (page := _confirm_first(request, "offer", offer, action)) is not None:
        return page
    try:
        # offer_update tells the publishers running it that it paused (or changed).
        offer_update(offer=offer, status=status)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{offer.name} is now {status}.")
    return _detail("offer", pk)


NOTE_SUBJECTS = {"advertiser": Advertiser, "publisher": Publisher, "offer": Offer}


@require_POST
@staff_only
@staff_act(Act.MANAGE_OFFERS)  # a note is part of managing the account
def note_add(request: PortalRequest, kind: str, pk: int) -> HttpResponse:
    model = NOTE_SUBJECTS.get(kind)
    if model is None:
        raise Http404("Notes are for advertisers, publishers and offers.")
    subject = get_object_or_404(visible(model.objects.all(), request.actor), pk=pk)  # type: ignore[attr-defined]
    try:
        staff_note_add(subject=subject, body=request.POST.get("body", ""), author=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Note added.")
    return _detail(kind, pk)
