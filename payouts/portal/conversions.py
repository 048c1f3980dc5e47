"""Decisions on conversions from the portal: approve, reject, reverse or release (the list's row
and bulk buttons) and the advertiser's adjustment upload. They move commissions, so they live here;
the lists they act on are tracking.portal's."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from affiliates.core.errors import DomainError
from affiliates.portal.access import PortalRequest, account_may, advertiser_only, portal_view
from affiliates.portal.confirm import confirm_page, confirmed
from affiliates.portal.redirects import next_safe, redirect_next
from affiliates.roles import Act, Actor, Role
from payouts.adjustments import adjustments_apply
from payouts.models import Commission
from payouts.services import BulkRefused, commissions_set_status, conversions_release
from tracking.portal.forms import AdjustmentUploadForm, BulkActionForm
from tracking.portal.selectors import conversions_for

#: Decisions that first show their confirm page, with its title; any decision on several
#: conversions at once (a bulk action) does too.
CONFIRM = {
    "rejected": "Reject",
    "reversed": "Reverse",
    "release": "Release from fraud review",
    "approved": "Approve",
}

# The ledger wants a reason for every change; a row button gives none, so it says what was done.
REASONS = {
    "approved": "Approved in the portal",
    "rejected": "Rejected in the portal",
    "reversed": "Reversed in the portal",
    "release": "Released from fraud review in the portal",
}


def commission_ids_for(actor: Actor, conversion_ids: Iterable[int]) -> list[int]:
    """The commissions behind conversions the actor may act on; others are silently dropped."""
    allowed = conversions_for(actor).filter(pk__in=list(conversion_ids)).values("pk")
    return list(Commission.objects.filter(conversion_id__in=allowed).values_list("pk", flat=True))


def _refusal(exc: DomainError) -> str:
    """A domain error for a flash message, with the first refused rows of a bulk call."""
    if not isinstance(exc, BulkRefused):
        return exc.message
    rows = "; ".join(f"{e.ref}: {e.message}" for e in exc.errors[:5])
    more = f" (and {len(exc.errors) - 5} more)" if len(exc.errors) > 5 else ""
    return f"{exc.message} {rows}{more}"


def _release(request: PortalRequest, conversion_ids: list[int], reason: str) -> None:
    visible = list(conversions_for(request.actor).filter(id__in=conversion_ids).values_list("id", flat=True))
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
    commission_ids = commission_ids_for(request.actor, conversion_ids)
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


def _effects(action: str, n: int, actor: Actor) -> list[str]:
    """What a destructive decision does (the status rules in tracking/lifecycle.py), for its
    confirm page."""
    them = f"{n} conversion{'s' if n != 1 else ''}"
    final = (
        "This is final: a rejected or reversed conversion is never reopened (a later status from "
        "the advertiser's feed is answered network_decision); a mistake is corrected by a new adjustment."
        if actor.is_staff
        else "This is final: a rejected or reversed conversion is never reopened; a mistake is "
        "corrected by a new adjustment."
    )
    if action == "release":
        return [
            f"Lifts the fraud-review hold on {them}: they stay pending, nothing is paid now.",
            "The offer's hold period still runs and the advertiser's own approve or reject still "
            "applies; they are approved when the hold period ends unless the advertiser decides first.",
            "To pay now instead, go back and choose Approve now: that skips the hold period and the "
            "advertiser's review.",
        ]
    if action == "rejected":
        return [f"Rejects {them}: their commissions are not paid and earn no revenue.", final]
    if action == "approved":
        return [
            f"Approves {them} now: their commissions become payable in the next payout run, "
            "without waiting for the rest of the offer's hold period.",
            "An approved conversion can still be reversed later: the ledger then takes back what it earned.",
        ]
    return [
        f"Reverses {them}: the ledger takes back what they earned (the publisher's balance goes "
        "down, netted against later earnings if already paid).",
        final,
    ]


@require_POST
@portal_view(Role.ADVERTISER, Role.STAFF)
@account_may(Act.DECIDE_COMMISSIONS)
def set_status(request: PortalRequest) -> HttpResponse:
    """Approve, reject, reverse or release one or many conversions (the table's row and bulk
    buttons); reject, reverse and release, and any action on several conversions at once, first
    show what they will do (affiliates.portal.confirm)."""
    form = BulkActionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Select at least one conversion and an action.")
    else:
        data = form.cleaned_data
        # One approval is a row's button; several at once, or anything that takes money back, asks.
        bulk = len(data["ids"]) > 1
        if (data["action"] != "approved" or bulk) and not confirmed(request):
            return confirm_page(
                request,
                title=CONFIRM[data["action"]],
                effects=_effects(data["action"], len(data["ids"]), request.actor),
                action=request.path,
                button=CONFIRM[data["action"]],
                cancel=next_safe(request, request.POST.get("next")) or reverse(_fallback(request)),
                fields={
                    "ids": [str(i) for i in data["ids"]],
                    "action": data["action"],
                    "reason": data["reason"],
                    "next": request.POST.get("next", ""),
                },
            )
        _set_status(request, data["ids"], data["action"], data["reason"])
    return redirect_next(request, _fallback(request))


def _fallback(request: PortalRequest) -> str:
    return "tracking_portal:staff-fraud" if request.actor.is_staff else "tracking_portal:adv-conversions"


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
