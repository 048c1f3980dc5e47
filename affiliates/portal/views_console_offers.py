"""Offers created and edited in the staff console: the advertiser portal's offer form and its goal
(price model each: CPC, CPM, CPL, CPA, CPS %, CPI), cap and creative formsets, plus custom
payouts per publisher, saved together by the same service (portal.services.offer_save), so one
set of rules applies whoever edits an offer. Each change is in the audit log (the models are
registered in affiliates.audit; the request's user is the actor). Pause and resume are the
offer page's actions (views_console.offer_action, with its confirm step)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from affiliates.core.errors import DomainError
from affiliates.models import Advertiser, Offer
from affiliates.portal.access import PortalRequest, staff_act, staff_only
from affiliates.portal.forms import CapFormSet, CreativeFormSet, CustomPayoutFormSet, GoalFormSet, OfferForm
from affiliates.portal.services import offer_save
from affiliates.roles import Act, may_manage, visible


class AdvertiserPick(forms.Form):
    advertiser = forms.ModelChoiceField(queryset=Advertiser.objects.none(), label="Advertiser")

    def __init__(self, *args: Any, queryset: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["advertiser"]
        field.queryset = queryset.order_by("name")


def _forms(request: PortalRequest, offer: Offer) -> tuple[OfferForm, list[Any]]:
    data = request.POST if request.method == "POST" else None
    form = OfferForm(data, instance=offer, advertiser_id=offer.advertiser_id)
    formsets = [
        GoalFormSet(data, instance=offer, prefix="goals"),
        CapFormSet(data, instance=offer, prefix="caps"),
        CreativeFormSet(data, instance=offer, prefix="creatives"),
        CustomPayoutFormSet(data, instance=offer, prefix="custom"),
    ]
    return form, formsets


def _edit(request: PortalRequest, offer: Offer) -> HttpResponse:
    form, formsets = _forms(request, offer)
    if request.method == "POST" and form.is_valid() & all([fs.is_valid() for fs in formsets]):
        try:
            saved = offer_save(form=form, formsets=formsets, user=request.user)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"Offer “{saved.name}” saved.")
            return redirect("payouts_portal:staff-offer", saved.pk)
    context = {
        "form": form,
        "goals": formsets[0],
        "caps": formsets[1],
        "creatives": formsets[2],
        "custom": formsets[3],
        "offer": offer if offer.pk else None,
        "advertiser": offer.advertiser,
    }
    return render(request, "portal/console/offer_form.html", context)


@staff_only
@staff_act(Act.MANAGE_OFFERS)
def offer_new(request: PortalRequest) -> HttpResponse:
    """Pick the advertiser (``?advertiser=``), then the offer form in its currency."""
    advertisers = visible(Advertiser.objects.all(), request.actor)
    pick = AdvertiserPick(request.GET or None, queryset=advertisers)
    if not pick.is_valid():
        return render(request, "portal/console/offer_pick.html", {"pick": pick})
    advertiser = pick.cleaned_data["advertiser"]
    return _edit(request, Offer(advertiser=advertiser, currency=advertiser.currency))


@staff_only
@staff_act(Act.MANAGE_OFFERS)
def offer_edit(request: PortalRequest, pk: int) -> HttpResponse:
    offer = get_object_or_404(visible(Offer.objects.select_related("advertiser"), request.actor), pk=pk)
    if not may_manage(request.actor, offer):
        return redirect("payouts_portal:staff-offer", pk)
    return _edit(request, offer)
