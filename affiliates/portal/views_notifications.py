"""The notifications page (the header bell's target), for every portal role."""

from __future__ import annotations

from django.http import HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from affiliates.notifications import Notification, notifications_mark_read
from affiliates.portal.access import PortalRequest, portal_view
from affiliates.roles import Role

any_role = portal_view(Role.STAFF, Role.ADVERTISER, Role.PUBLISHER)


@any_role
def notifications(request: PortalRequest) -> HttpResponse:
    rows = list(Notification.objects.filter(recipient_id=request.user.pk)[:100])
    return render(request, "portal/account/notifications.html", {"notifications": rows})


@require_POST
@any_role
def notifications_read(request: PortalRequest) -> HttpResponseBase:
    notifications_mark_read(user=request.user)
    return redirect("portal:notifications")
