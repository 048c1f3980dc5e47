"""The notifications page (the header bell's target), for every portal role."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from affiliates.notifications import Channel, Notification, notifications_mark_read
from affiliates.notify import notification_preferences, notification_preferences_update
from affiliates.portal.access import PortalRequest, portal_view, staff_act
from affiliates.roles import Role

any_role = portal_view(Role.STAFF, Role.ADVERTISER, Role.PUBLISHER)


@any_role
@staff_act(None)  # one's own bell and preferences
def notifications(request: PortalRequest) -> HttpResponse:
    rows = list(Notification.objects.filter(recipient_id=request.user.pk)[:100])
    return render(request, "portal/account/notifications.html", {"notifications": rows})


@require_POST
@any_role
@staff_act(None)  # one's own bell and preferences
def notifications_read(request: PortalRequest) -> HttpResponseBase:
    notifications_mark_read(user=request.user)
    return redirect("portal:notifications")


@any_role
@staff_act(None)  # one's own bell and preferences
def notification_settings(request: PortalRequest) -> HttpResponse:
    """Per kind, per channel: a checkbox each; unchecked boxes are switched off."""
    rows = notification_preferences(user=request.user, role=request.actor.role)
    if request.method == "POST":
        chosen = set(request.POST.getlist("on"))
        choices = [
            (row["kind"], channel, f"{row['kind']}:{channel}" in chosen)
            for row in rows
            for channel in Channel.values
        ]
        notification_preferences_update(user=request.user, choices=choices)
        messages.success(request, "Your notification choices are saved.")
        return redirect("portal:notification-settings")
    return render(
        request,
        "portal/account/notification_settings.html",
        {"rows": rows, "channels": Channel.choices, "tab": "notifications"},
    )
