"""Staff: the network's users and their two-factor status; an admin resets a user's 2FA.

A user who lost both the phone and the recovery codes cannot sign in (staff) or turn 2FA off
(advertisers and publishers need a current code). A network admin (a superuser) resets it
after a confirmation page; accounts.twofactor.twofactor_reset audits it and tells the user.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q
from django.http import HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django_otp.plugins.otp_totp.models import TOTPDevice

from affiliates.accounts import twofactor
from affiliates.core.errors import DomainError
from affiliates.portal.access import PortalRequest, staff_only

PAGE_SIZE = 50


@staff_only
def users(request: PortalRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:150]
    qs: Any = (
        get_user_model()
        .objects.annotate(
            twofactor_on=Exists(TOTPDevice.objects.filter(user_id=OuterRef("pk"), confirmed=True))
        )
        .order_by("username", "id")
    )
    if q:
        qs = qs.filter(Q(username__icontains=q) | Q(email__icontains=q))
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "q": q, "is_admin": request.user.is_superuser}
    return render(request, "portal/staff/users.html", context)


@staff_only
def twofactor_reset(request: PortalRequest, user_id: int) -> HttpResponseBase:
    """GET: the confirmation page; POST (with ``confirm``): the reset."""
    user = get_object_or_404(get_user_model(), pk=user_id)
    context: dict[str, Any] = {
        "subject": user,
        "enabled": twofactor.twofactor_enabled(user=user),
        "message": "",
        "code": "",
    }
    if request.method == "POST" and request.POST.get("confirm") == "reset":
        try:
            twofactor.twofactor_reset(user=user, by=request.user)
        except DomainError as refused:
            context.update(message=refused.message, code=refused.code)
            return render(request, "portal/refused.html", context, status=refused.status_code)
        messages.success(request, f"Two-factor authentication of {user.get_username()} was reset.")
        return redirect("portal:staff-users")
    if not request.user.is_superuser:
        context.update(message="Only a network admin may reset two-factor authentication.", code="admin_only")
        return render(request, "portal/refused.html", context, status=403)
    status = 400 if request.method == "POST" else 200  # a POST without the confirmation
    return render(request, "portal/staff/twofactor_reset.html", context, status=status)
