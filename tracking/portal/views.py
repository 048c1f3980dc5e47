"""Conversion pages: lists with status and trace, review and adjustments, integration, fraud queue."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from affiliates.core.errors import DomainError
from affiliates.models import Offer
from affiliates.portal.access import (
    PortalRequest,
    account_may,
    advertiser_only,
    portal_view,
    publisher_only,
    staff_only,
)
from affiliates.portal.redirects import redirect_next
from affiliates.roles import Act, Role, scope
from affiliates.services import advertiser_rotate_credentials
from payouts.adjustments import adjustments_apply
from payouts.services import BulkRefused, commissions_set_status, conversions_release
from tracking.conversions.dry_run import conversion_dry_run
from tracking.conversions.trace_view import trace_steps
from tracking.journeys.trace import trace_with_journey
from tracking.portal import selectors
from tracking.portal.forms import AdjustmentUploadForm, BulkActionForm, ConversionFilter, TestConversionForm

PAGE_SIZE = 50
# The ledger wants a reason for every change; a row button gives none, so it says what was done.
REASONS = {
    "approved": "Approved in the portal",
    "rejected": "Rejected in the portal",
    "reversed": "Reversed in the portal",
    "release": "Released from fraud review in the portal",
}


def _offers(request: PortalRequest) -> Any:
    if request.actor.is_publisher:
        return Offer.objects.filter(accesses__publisher_id=request.actor.publisher_id or 0).distinct()
    return scope(Offer.objects.all(), request.actor, advertiser_path="advertiser_id", publisher_path=None)


def _list(request: PortalRequest, template: str, extra: dict[str, Any] | None = None) -> HttpResponseBase:
    form = ConversionFilter(request.GET or None, offers=_offers(request))
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


def _refusal(exc: DomainError) -> str:
    """A domain error for a flash message, with the first refused rows of a bulk call."""
    if not isinstance(exc, BulkRefused):
        return exc.message
    rows = "; ".join(f"{e.ref}: {e.message}" for e in exc.errors[:5])
    more = f" (and {len(exc.errors) - 5} more)" if len(exc.errors) > 5 else ""
    return f"{exc.message} {rows}{more}"


def _release(request: PortalRequest, conversion_ids: list[int], reason: str) -> None:
    visible = list(
        selectors.conversions_for(request.actor).filter(id__in=conversion_ids).values_list("id", flat=True)
    )
    if not visible:
        messages.error(request, "None of the selected conversions is yours to release.")
        return
    try:
        n = conversions_release(conversion_ids=visible, actor=request.actor, reason=reason)
    except DomainError as exc:
        messages.error(request, _refusal(exc))
    else:
        messages.success(
            request,
            f"{n} conversion{'s' if n != 1 else ''} released from review: pending until the hold "
            "period ends or the advertiser decides.",
        )


def _set_status(request: PortalRequest, conversion_ids: list[int], status: str, reason: str) -> None:
    if status == "release":
        _release(request, conversion_ids, reason)
        return
    commission_ids = selectors.commission_ids_for(request.actor, conversion_ids)
    if not commission_ids:
        messages.error(request, "None of the selected conversions has a commission to change yet.")
        return
    try:
        commissions_set_status(
            commission_ids=commission_ids,
            status=status,
            reason=reason or REASONS[status],
            actor=request.actor,
        )
    except DomainError as exc:
        messages.error(request, _refusal(exc))
    else:
        n = len(commission_ids)
        messages.success(request, f"{n} conversion{'s' if n != 1 else ''} {status}.")


@require_POST
@portal_view(Role.ADVERTISER, Role.STAFF)
@account_may(Act.DECIDE_COMMISSIONS)
def set_status(request: PortalRequest) -> HttpResponse:
    """Approve, reject or reverse one or many conversions (the table's row and bulk buttons)."""
    form = BulkActionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Select at least one conversion and an action.")
    else:
        data = form.cleaned_data
        _set_status(request, data["ids"], data["action"], data["reason"])
    fallback = "tracking_portal:staff-fraud" if request.actor.is_staff else "tracking_portal:adv-conversions"
    return redirect_next(request, fallback)


@require_POST
@advertiser_only
@account_may(Act.DECIDE_COMMISSIONS)
def adv_upload(request: PortalRequest) -> HttpResponse:
    form = AdjustmentUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            for e in errors:
                messages.error(request, str(e))
        return redirect("tracking_portal:adv-conversions")
    raw = form.cleaned_data["file"].read()
    try:
        # The actor scopes which commissions the rows may reach: the advertiser's own only.
        changed = adjustments_apply(text=raw.decode("utf-8-sig"), actor=request.actor)
    except UnicodeDecodeError:
        messages.error(request, "The file is not UTF-8 text.")
    except DomainError as exc:
        messages.error(request, _refusal(exc))
    else:
        messages.success(request, f"Adjustments applied: {len(changed)} commission(s) changed.")
    return redirect("tracking_portal:adv-conversions")


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
        # Only the digest is stored, so the token can be shown only now, on this response.
        new_token = advertiser_rotate_credentials(advertiser=advertiser)
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
    offer = advertiser.offers.first()
    context = {
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


@staff_only
def staff_fraud(request: PortalRequest) -> HttpResponse:
    qs = selectors.conversions_for(request.actor).filter(held_for_review=True, status="pending")
    page = Paginator(qs.order_by("created_at", "id"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "tracking/portal/staff_fraud.html", {"page": page})
