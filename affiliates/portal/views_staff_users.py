"""Staff: the network's users, their two-factor status and staff roles; an admin resets a
user's 2FA, sets staff roles and assigns account managers their advertisers and publishers.

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
from django.http import Http404, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django_otp.plugins.otp_totp.models import TOTPDevice

from affiliates import staff
from affiliates.accounts import twofactor
from affiliates.core.db import db_id
from affiliates.core.errors import DomainError
from affiliates.models import Advertiser, Publisher
from affiliates.portal.access import PortalRequest, account_refused, staff_only
from affiliates.roles import AccountRefused, Act, role_allows
from affiliates.team_models import StaffRole

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
    roles = {row.user.pk: row for row in staff.staff_rows(users=page.object_list)}
    context = {
        "page": page,
        "rows": [(u, roles.get(u.pk)) for u in page.object_list],
        "q": q,
        "is_admin": request.user.is_superuser,
        "may_set_roles": role_allows(request.actor, Act.MANAGE_NETWORK),
        "staff_roles": StaffRole.choices,
    }
    return render(request, "portal/staff/users.html", context)


@staff_only
def staff_role(request: PortalRequest, user_id: int) -> HttpResponseBase:
    """POST: give a staff user a role (network admins)."""
    if request.method != "POST":
        return redirect("portal:staff-users")
    user = get_object_or_404(get_user_model(), pk=user_id, is_staff=True)
    try:
        member = staff.staff_role_set(actor=request.actor, user=user, role=request.POST.get("role", ""))
    except AccountRefused as refused:
        return account_refused(request, refused)
    except DomainError as refused:
        messages.error(request, f"{refused.message} ({refused.code})")
    else:
        messages.success(request, f"{user.get_username()} is now {member.get_role_display().lower()}.")
    return redirect("portal:staff-users")


@staff_only
def staff_accounts(request: PortalRequest, user_id: int) -> HttpResponseBase:
    """An account manager's advertisers and publishers; admins add (``assign``: ``a<id>`` or
    ``p<id>``) and remove (``unassign``: the assignment's id) them."""
    user = get_object_or_404(get_user_model(), pk=user_id, is_staff=True)
    if request.method == "POST":
        try:
            _assign_change(request, user, request.POST.get("assign", ""))
        except AccountRefused as refused:
            return account_refused(request, refused)
        except DomainError as refused:
            if refused.status_code == 404:
                raise Http404(refused.message) from refused
            messages.error(request, f"{refused.message} ({refused.code})")
        return redirect("portal:staff-accounts", user_id=user.pk)
    may_assign = role_allows(request.actor, Act.MANAGE_NETWORK)
    if not may_assign and user.pk != request.user.pk:
        raise Http404("Another staff member's accounts are the admins' business.")
    context = {
        "subject": user,
        "row": staff.staff_rows(users=[user])[0],
        "may_assign": may_assign,
        # The pickers list every account: only for admins, who assign them.
        "advertisers": Advertiser.objects.order_by("name", "id").only("id", "name") if may_assign else [],
        "publishers": Publisher.objects.order_by("name", "id").only("id", "name") if may_assign else [],
    }
    return render(request, "portal/staff/accounts.html", context)


def _assign_change(request: PortalRequest, user: Any, picked: str) -> None:
    unassign = db_id(request.POST.get("unassign"))
    if unassign is not None:
        staff.account_unassign(actor=request.actor, assignment_id=unassign)
        messages.success(request, "Assignment removed.")
        return
    kind, pk = picked[:1], db_id(picked[1:])
    if kind not in ("a", "p") or pk is None:
        raise DomainError("Pick an advertiser or a publisher.", code="one_account")
    advertiser = get_object_or_404(Advertiser, pk=pk) if kind == "a" else None
    publisher = get_object_or_404(Publisher, pk=pk) if kind == "p" else None
    staff.account_assign(actor=request.actor, manager=user, advertiser=advertiser, publisher=publisher)
    messages.success(request, f"Assigned {advertiser or publisher} to {user.get_username()}.")


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
