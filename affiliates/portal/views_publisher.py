"""Publisher pages: offer marketplace, my offers with the link builder, profile (the dashboard
is payouts.portal's)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from affiliates import selectors as affiliate_selectors
from affiliates.core.errors import DomainError
from affiliates.models import Offer, OfferAccess
from affiliates.portal.access import PortalRequest, account_may, publisher_only
from affiliates.portal.forms import ApplyForm, PayoutDetailsForm, ProfileForm
from affiliates.roles import Act, offers_visible_to_publisher_q, scope
from affiliates.services import access_apply
from affiliates.validators import TRAFFIC_TYPES


def _pub(request: PortalRequest) -> Any:
    assert request.publisher is not None  # publisher_only guarantees it
    return request.publisher


def _visible_offers(request: PortalRequest) -> Any:
    publisher = _pub(request)
    return Offer.objects.filter(
        offers_visible_to_publisher_q(publisher.pk), status=Offer.Status.ACTIVE
    ).distinct()


@publisher_only
@account_may(Act.APPLY_TO_OFFERS)
def offer_detail(request: PortalRequest, offer_id: int) -> HttpResponse:
    # A paused or ended offer stays readable to the publishers who applied to it: their link
    # list points here, and the page says why the link earns nothing now.
    publisher = _pub(request)
    offers = Offer.objects.filter(
        Q(offers_visible_to_publisher_q(publisher.pk), status=Offer.Status.ACTIVE)
        | Q(accesses__publisher=publisher)
    )
    offers = offers.distinct().select_related("advertiser", "fallback_offer")
    offer = get_object_or_404(offers, pk=offer_id)
    access = OfferAccess.objects.filter(offer=offer, publisher=_pub(request)).first()
    form = ApplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            access = access_apply(offer=offer, publisher=_pub(request), note=form.cleaned_data["note"])
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            if access.status == OfferAccess.Status.APPROVED:
                messages.success(request, f"You're in: {offer.name} is ready. Build your link below.")
                return redirect("portal:pub-my-offer", access_id=access.pk)
            messages.success(request, "Application sent. The advertiser will review it shortly.")
        return redirect("portal:pub-offer", offer_id=offer.pk)
    return render(
        request,
        "portal/publisher/offer_detail.html",
        {
            "offer": offer,
            "goals": offer.goals.all(),
            "access": access,
            "form": form,
            "down_note": affiliate_selectors.offer_down_note(offer=offer),
            "creatives": offer.creatives.filter(active=True),
            "caps": affiliate_selectors.offer_caps_for(offer=offer, publisher=_pub(request)),
            "traffic": [TRAFFIC_TYPES[t] for t in offer.allowed_traffic if t in TRAFFIC_TYPES],
        },
    )


def _my_accesses(request: PortalRequest) -> Any:
    return scope(
        OfferAccess.objects.select_related("offer", "offer__advertiser"),
        request.actor,
        advertiser_path=None,
        publisher_path="publisher_id",
    )


@publisher_only
def my_offers(request: PortalRequest) -> HttpResponse:
    accesses = list(
        _my_accesses(request)
        .select_related("offer__fallback_offer")
        .prefetch_related("offer__goals")
        .order_by("status", "offer__name")
    )
    for access in accesses:
        access.down_note = affiliate_selectors.offer_down_note(offer=access.offer)
    return render(request, "portal/publisher/my_offers.html", {"accesses": accesses})


@publisher_only
def my_offer(request: PortalRequest, access_id: int) -> HttpResponse:
    access = get_object_or_404(_my_accesses(request).filter(status=OfferAccess.Status.APPROVED), pk=access_id)
    base = access.tracking_url()
    creatives = [
        {"creative": c, "snippet": c.render_for(base)} for c in access.offer.creatives.filter(active=True)
    ]
    return render(
        request,
        "portal/publisher/my_offer.html",
        {
            "access": access,
            "offer": access.offer,
            "goals": access.offer.goals.all(),
            "base_url": base,
            "subs": ["sub1", "sub2", "sub3", "sub4", "sub5", "source"],
            "built": _built_link(base, request.GET),
            "creatives": creatives,
            "down_note": affiliate_selectors.offer_down_note(offer=access.offer),
        },
    )


def _built_link(base: str, params: Any) -> str:
    """The same link the page's script builds, for visitors without JavaScript (GET form)."""
    from urllib.parse import urlencode

    keep = {k: params[k].strip() for k in ("sub1", "sub2", "sub3", "sub4", "sub5", "source") if params.get(k)}
    return f"{base}?{urlencode(keep)}" if keep else base


@publisher_only
@account_may(Act.MANAGE_PAYOUTS)
def profile(request: PortalRequest) -> HttpResponse:
    publisher = _pub(request)
    which = request.POST.get("form")
    profile_form = ProfileForm(request.POST if which == "profile" else None, instance=publisher, prefix="p")
    payout_form = PayoutDetailsForm(
        request.POST if which == "payout" else None, instance=publisher, prefix="d"
    )
    bound = profile_form if which == "profile" else payout_form if which == "payout" else None
    if bound is not None and bound.is_valid():
        bound.save()
        messages.success(request, "Saved.")
        return redirect("portal:pub-profile")
    return render(
        request, "portal/publisher/profile.html", {"profile_form": profile_form, "payout_form": payout_form}
    )


@require_POST
@publisher_only
@account_may(Act.APPLY_TO_OFFERS)
def apply_quick(request: PortalRequest, offer_id: int) -> HttpResponse:
    """The marketplace card's one-click apply (public offers open at once)."""
    offer = get_object_or_404(_visible_offers(request), pk=offer_id)
    try:
        access = access_apply(offer=offer, publisher=_pub(request))
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("tracking_portal:pub-marketplace")
    if access.status == OfferAccess.Status.APPROVED:
        messages.success(request, f"You're in: {offer.name}.")
        return redirect("portal:pub-my-offer", access_id=access.pk)
    messages.success(request, f"Applied to {offer.name}.")
    return redirect("tracking_portal:pub-marketplace")
