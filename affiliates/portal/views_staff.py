"""Network staff pages: the approval queues and the brute-force lockouts (the overview is
payouts.portal's)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from affiliates import lockout
from affiliates import selectors as affiliate_selectors
from affiliates.models import OfferAccess, Publisher
from affiliates.portal.access import PortalRequest, account_may, staff_only
from affiliates.portal.views_advertiser import decide_access
from affiliates.roles import Act, visible
from affiliates.services import publisher_set_status


@staff_only
def publisher_queue(request: PortalRequest) -> HttpResponse:
    status = request.GET.get("status", Publisher.Status.PENDING)
    if status not in Publisher.Status.values:
        status = Publisher.Status.PENDING
    rows = visible(Publisher.objects.filter(status=status), request.actor)  # account managers: theirs
    rows = rows.prefetch_related("members").order_by("created_at", "id")
    return render(
        request,
        "portal/staff/publishers.html",
        {"rows": rows, "status": status, "statuses": Publisher.Status.values, "now": timezone.now()},
    )


@require_POST
@staff_only
@account_may(Act.DECIDE_SIGNUPS)
def publisher_decision(request: PortalRequest, publisher_id: int) -> HttpResponse:
    publisher = get_object_or_404(visible(Publisher.objects.all(), request.actor), pk=publisher_id)
    status = request.POST.get("status", "")
    if status not in Publisher.Status.values:
        messages.error(request, "Unknown status.")
    else:
        publisher_set_status(publisher=publisher, status=status, by=request.user)  # type: ignore[arg-type]
        messages.success(request, f"{publisher.name} is now {status}.")
    return redirect("portal:staff-publishers")


@staff_only
def access_queue(request: PortalRequest) -> HttpResponse:
    return render(
        request,
        "portal/staff/access.html",
        {"requests": visible(affiliate_selectors.pending_access_requests(advertiser_id=None), request.actor)},
    )


@require_POST
@staff_only
@account_may(Act.DECIDE_ACCESS)
def access_decision(request: PortalRequest, access_id: int) -> HttpResponse:
    accesses = visible(OfferAccess.objects.select_related("offer", "publisher"), request.actor)
    decide_access(request, get_object_or_404(accesses, pk=access_id))
    # Back to the list it was decided from: the queue, or the console's access list.
    back = "portal:staff-accesses" if request.POST.get("from") == "accesses" else "portal:staff-access"
    return redirect(back)


@staff_only
def lockouts(request: PortalRequest) -> HttpResponse:
    return render(
        request,
        "portal/staff/lockouts.html",
        {"rows": lockout.lockouts_current(), "limit": settings.AXES_FAILURE_LIMIT},
    )


@require_POST
@staff_only
@account_may(Act.MANAGE_NETWORK)
def lockout_reset(request: PortalRequest) -> HttpResponse:
    kind, key = request.POST.get("kind", ""), request.POST.get("key", "")
    if kind not in {"ip", "account"} or not key:
        messages.error(request, "Unknown lockout.")
    else:
        lockout.lockout_reset(kind=kind, key=key)
        messages.success(request, f"Lifted the lock on {key}.")
    return redirect("portal:staff-lockouts")
