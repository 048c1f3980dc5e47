"""Conversion pages: lists with status and trace, integration, fraud queue (the decisions the lists
post are payouts.portal.conversions')."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from affiliates.core.errors import DomainError
from affiliates.portal.access import (
    PortalRequest,
    advertiser_only,
    portal_view,
    publisher_only,
)
from affiliates.roles import Role
from affiliates.services import advertiser_rotate_credentials
from tracking.conversions.dry_run import conversion_dry_run
from tracking.conversions.trace_view import trace_steps
from tracking.journeys.trace import trace_with_journey
from tracking.portal import selectors
from tracking.portal.forms import AdjustmentUploadForm, ConversionFilter, TestConversionForm

PAGE_SIZE = 50


def _list(request: PortalRequest, template: str, extra: dict[str, Any] | None = None) -> HttpResponseBase:
    form = ConversionFilter(request.GET or None, offers=selectors.offers_for(request.actor))
    qs = selectors.conversions_filtered(request.actor, form.params())
    money_field = "payout" if request.actor.is_publisher else "revenue"
    if request.GET.get("format") == "csv":
        response = StreamingHttpResponse(
            selectors.conversions_csv(qs, money_field=money_field), content_type="text/csv"
        )
        stamp = timezone.now().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="conversions-{stamp}.csv"'
        return response
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode(), "money_field": money_field}
    return render(request, template, {**context, **(extra or {})})


@publisher_only
def pub_conversions(request: PortalRequest) -> HttpResponseBase:
    return _list(request, "tracking/portal/pub_conversions.html")


@advertiser_only
def adv_conversions(request: PortalRequest) -> HttpResponseBase:
    return _list(request, "tracking/portal/adv_conversions.html", {"upload": AdjustmentUploadForm()})


@portal_view(Role.PUBLISHER, Role.ADVERTISER, Role.STAFF)
def conversion_detail(request: PortalRequest, conversion_id: int) -> HttpResponse:
    conversion = get_object_or_404(selectors.conversions_for(request.actor), pk=conversion_id)
    return render(
        request,
        "tracking/portal/conversion_detail.html",
        {
            "c": conversion,
            "steps": trace_steps(trace_with_journey(conversion), request.actor),
            "events": conversion.events.all(),
            "commission": conversion.commission if hasattr(conversion, "commission") else None,
            # The margin is private both ways (as in the API and the trace): a publisher sees
            # neither the revenue nor the visitor's raw IP, an advertiser not the payout.
            "show_payout": not request.actor.is_advertiser,
            "show_revenue": not request.actor.is_publisher,
            "show_ip": not request.actor.is_publisher,
        },
    )


@advertiser_only
def adv_integration(request: PortalRequest) -> HttpResponse:
    advertiser = request.advertiser
    assert advertiser is not None
    new_token = ""
    test_form = TestConversionForm(
        request.POST if request.POST.get("do") == "test" else None, advertiser_id=advertiser.pk
    )
    test_result = None
    if request.method == "POST" and request.POST.get("do") == "rotate":
        # Destructive (live postbacks with the old token fail at once): a required box, checked
        # here too, so it holds without the browser's form validation.
        if request.POST.get("confirm_rotate"):
            # Only the digest is stored, so the token can be shown only now, on this response.
            new_token = advertiser_rotate_credentials(advertiser=advertiser)
        else:
            messages.error(request, "Tick the box to confirm: the old token stops working at once.")
    elif request.method == "POST" and test_form.is_valid():
        data = test_form.cleaned_data
        try:
            # Runs a signed postback through the real pipeline and rolls it all back.
            test_result = conversion_dry_run(
                offer=data["offer"],
                goal_code=data["goal"],
                publisher=data["publisher"],
                amount=data["amount"],
            )
        except DomainError as exc:
            messages.error(request, exc.message)
    site = settings.SITE_URL.rstrip("/")
    offers = list(advertiser.offers.order_by("name", "id"))
    offer = next((o for o in offers if str(o.pk) == request.GET.get("offer", "")), None)
    offer = offer or (offers[0] if offers else None)
    goals = list(offer.goals.order_by("-is_default", "code")) if offer is not None else []
    context = {
        "offers": offers,
        "goals": goals,
        "site": site,
        "token": new_token,
        "token_hint": advertiser.postback_token_hint,
        "secret": advertiser.hmac_secret,
        "offer": offer,
        "test_form": test_form,
        "test_result": test_result,
        "test_steps": trace_steps(test_result.trace, request.actor) if test_result is not None else [],
        "ip_allowlist": advertiser.ip_allowlist,
    }
    return render(request, "tracking/portal/integration.html", context)
