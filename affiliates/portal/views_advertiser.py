"""Advertiser pages: offers with goals/caps/targeting/creatives, and access decisions (the
dashboard is payouts.portal's, the offers and publishers tables tracking.portal's)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from affiliates.core.errors import DomainError
from affiliates.models import FxRate, Offer, OfferAccess
from affiliates.offer_targets import OfferTarget
from affiliates.portal.access import PortalRequest, account_may, advertiser_only
from affiliates.portal.forms import (
    CapFormSet,
    ConfirmForm,
    CreativeFormSet,
    DecisionForm,
    EffectTargetForm,
    GoalFormSet,
    OfferForm,
    ReportingCurrencyForm,
)
from affiliates.portal.redirects import redirect_next
from affiliates.portal.services import offer_save
from affiliates.pricing import goal_warnings
from affiliates.reporting_currency import reporting_currencies, reporting_currency_set
from affiliates.roles import AccountRefused, Act, approval_check, scope
from affiliates.services import access_decide, access_revoke


def _offers(request: PortalRequest) -> Any:
    return scope(Offer.objects.all(), request.actor, advertiser_path="advertiser_id", publisher_path=None)


def _offer_forms(
    request: PortalRequest, offer: Offer | None
) -> tuple[OfferForm, list[Any], EffectTargetForm]:
    data = request.POST if request.method == "POST" else None
    instance = offer or Offer(advertiser=request.advertiser, currency=request.advertiser.currency)  # type: ignore[union-attr]
    form = OfferForm(data, instance=instance, advertiser_id=request.actor.advertiser_id or 0)
    formsets = [
        GoalFormSet(data, instance=instance, prefix="goals"),
        CapFormSet(data, instance=instance, prefix="caps"),
        CreativeFormSet(data, instance=instance, prefix="creatives"),
    ]
    current = OfferTarget.objects.filter(offer_id=offer.pk).first() if offer else None
    initial = {"conversions": current.conversions, "period": current.period} if current else None
    target = EffectTargetForm(data, prefix="target", initial=initial)
    return form, formsets, target


def _offer_edit(request: PortalRequest, offer: Offer | None) -> HttpResponse:
    form, formsets, target = _offer_forms(request, offer)
    valid = form.is_valid() & all([fs.is_valid() for fs in formsets]) & target.is_valid()
    if request.method == "POST" and valid:
        try:
            saved = offer_save(
                form=form,
                formsets=formsets,
                # A post without the target fields (an older form) leaves the target alone.
                target=(target.cleaned_data["conversions"], target.cleaned_data["period"])
                if "target-conversions" in request.POST
                else None,
                user=request.user,
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"Offer “{saved.name}” saved.")
            for goal in _loss_goals(saved):
                messages.warning(request, _loss_message(goal))
            return redirect("portal:adv-offer-edit", offer_id=saved.pk)
    return render(
        request,
        "portal/advertiser/offer_form.html",
        {
            "form": form,
            "goals": formsets[0],
            "caps": formsets[1],
            "creatives": formsets[2],
            "target": target,
            "offer": offer,
            "loss_warnings": [_loss_message(g) for g in _loss_goals(offer)] if offer else [],
        },
    )


def _loss_goals(offer: Offer) -> list[Any]:
    """Goals whose publisher payout exceeds the revenue: each action loses the network money."""
    return [g for g in offer.goals.all() if goal_warnings(g)]


def _loss_message(goal: Any) -> str:
    unit = "%" if goal.is_percentage else f" {goal.offer.currency}"
    return (
        f"Goal “{goal.code}” pays the publisher {goal.payout}{unit} but earns only {goal.revenue}{unit} "
        "in revenue: every conversion loses money."
    )


@advertiser_only
@account_may(Act.MANAGE_OFFERS)
def offer_create(request: PortalRequest) -> HttpResponse:
    return _offer_edit(request, None)


@advertiser_only
@account_may(Act.MANAGE_OFFERS)
def offer_edit(request: PortalRequest, offer_id: int) -> HttpResponse:
    return _offer_edit(request, get_object_or_404(_offers(request), pk=offer_id))


def decide_access(request: PortalRequest, access: OfferAccess) -> None:
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose approve or reject.")
        return
    if form.cleaned_data["decision"] == OfferAccess.Status.APPROVED:
        try:
            approval_check(request.actor, access.publisher)
        except AccountRefused as refused:
            messages.error(request, refused.message)
            return
    decided = access_decide(
        offer=access.offer,
        publisher=access.publisher,
        status=form.cleaned_data["decision"],
        by=request.user,  # type: ignore[arg-type]
        note=form.cleaned_data["note"],
    )
    messages.success(request, f"{decided.publisher.name} {decided.status} for {decided.offer.name}.")


@require_POST
@advertiser_only
@account_may(Act.DECIDE_ACCESS)
def access_decision(request: PortalRequest, access_id: int) -> HttpResponse:
    accesses = scope(
        OfferAccess.objects.select_related("offer", "publisher"),
        request.actor,
        advertiser_path="offer__advertiser_id",
        publisher_path=None,
    )
    decide_access(request, get_object_or_404(accesses, pk=access_id))
    return redirect_next(request, "tracking_portal:adv-publishers")


@advertiser_only
@account_may(Act.DECIDE_ACCESS)
def access_revoke_page(request: PortalRequest, access_id: int) -> HttpResponse:
    """Remove a publisher from one offer: a confirmation page (GET), then the required box (POST)."""
    accesses = scope(
        OfferAccess.objects.select_related("offer", "publisher", "offer__fallback_offer"),
        request.actor,
        advertiser_path="offer__advertiser_id",
        publisher_path=None,
    )
    access = get_object_or_404(accesses.filter(status=OfferAccess.Status.APPROVED), pk=access_id)
    form = ConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            access_revoke(access=access, by=request.user, note=form.cleaned_data["note"])  # type: ignore[arg-type]
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request, f"{access.publisher.name} no longer runs {access.offer.name}; they were told."
            )
        return redirect("tracking_portal:adv-publishers")
    return render(request, "portal/advertiser/access_revoke.html", {"access": access, "form": form})


def _rates_into(currency: str) -> list[FxRate]:
    """The newest stored rate of each pair into or out of ``currency`` (what totals use now)."""
    newest: dict[tuple[str, str], FxRate] = {}
    for rate in FxRate.objects.filter(Q(base=currency) | Q(quote=currency)).order_by("-valid_from", "-pk"):
        newest.setdefault((rate.base, rate.quote), rate)
    return sorted(newest.values(), key=lambda r: (r.base, r.quote))


@advertiser_only
@account_may(Act.MANAGE_OFFERS)
def account_settings(request: PortalRequest) -> HttpResponse:
    """The advertiser's settings: the reporting currency its dashboards and reports total in."""
    advertiser = request.advertiser
    assert advertiser is not None  # advertiser_only guarantees it
    network = str(settings.REPORTING_CURRENCY)
    form = ReportingCurrencyForm(
        request.POST or None,
        initial={"reporting_currency": advertiser.reporting_currency},
        network=network,
        choices=reporting_currencies(),
    )
    if request.method == "POST":
        if form.is_valid():
            reporting_currency_set(account=advertiser, currency=form.cleaned_data["reporting_currency"])
            shown = advertiser.reporting_currency or network
            messages.success(request, f"Dashboards and reports now total money in {shown}.")
            return redirect("portal:adv-settings")
        status = 400
    else:
        status = 200
    current = advertiser.reporting_currency or network
    context = {
        "form": form,
        "current": current,
        "network": network,
        "rates": _rates_into(current),
        "refused": getattr(form, "refused", None),
    }
    return render(request, "portal/advertiser/settings.html", context, status=status)
