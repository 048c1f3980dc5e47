"""Who may open a portal page. Every decision goes through affiliates.roles.

A page names the roles it serves. A signed-out visitor is sent to the login page; a signed-in
user of another role gets 404, as an object of another tenant does, so the portals reveal no
more than the API about what exists.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render

from affiliates.models import Advertiser, Publisher
from affiliates.roles import (
    AccountRefused,
    Act,
    Actor,
    Role,
    account_check,
    actor_for,
    role_check,
)

View = Callable[..., HttpResponseBase]


class PortalRequest(HttpRequest):
    """An HttpRequest after ``portal_view``: the actor and its tenant are resolved once."""

    actor: Actor
    advertiser: Advertiser | None
    publisher: Publisher | None


def portal_view(*roles: Role) -> Callable[[View], View]:
    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            actor = actor_for(request.user)
            if actor.role not in roles:
                raise Http404("No such page for this account.")
            req: Any = request
            req.actor = actor
            req.advertiser = (
                Advertiser.objects.get(pk=actor.advertiser_id) if actor.advertiser_id is not None else None
            )
            req.publisher = (
                Publisher.objects.get(pk=actor.publisher_id) if actor.publisher_id is not None else None
            )
            # A publisher is let in only once the network approved it (sign-up is pending).
            if req.publisher is not None and req.publisher.status != Publisher.Status.ACTIVE:
                return redirect("portal:pending")
            if request.method == "POST" and actor.is_staff:
                # The portals' one staff-role gate, as api.base.StaffActs is the API's: a POST
                # needs the staff act the view declares (account_may, staff_act), and a view
                # that declares none is network administration (admins only: fail closed).
                act = getattr(view, "staff_act", Act.MANAGE_NETWORK)
                try:
                    if act is not None:
                        role_check(actor, act)
                except AccountRefused as refused:
                    return account_refused(request, refused)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def account_may(act: Act, *, staff: Act | None = None) -> Callable[[View], View]:
    """A portal write (POST) refused by the role and account-status rules the API applies
    (roles.account_check): a 403 page with the rule's message and reason code. ``staff``: the
    act staff need here when it differs from the members' (a blocklist is the fraud analysts').
    Goes inside ``portal_view``, which resolves the actor."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if request.method == "POST":
                actor: Actor = request.actor  # type: ignore[attr-defined]
                try:
                    account_check(actor, staff if staff is not None and actor.is_staff else act)
                except AccountRefused as refused:
                    return account_refused(request, refused)
            return view(request, *args, **kwargs)

        wrapper.staff_act = staff if staff is not None else act  # type: ignore[attr-defined]
        return wrapper

    return decorate


def staff_act(act: Act | None) -> Callable[[View], View]:
    """What a staff POST to this view is (portal_view checks it against roles.STAFF_MAY) when
    the view checks its members otherwise; None: a personal write any staff role may make
    (one's own notifications, two-factor device, API keys). Goes inside ``portal_view``."""

    def decorate(view: View) -> View:
        view.staff_act = act  # type: ignore[attr-defined]
        return view

    return decorate


def account_refused(request: HttpRequest, refused: AccountRefused) -> HttpResponse:
    context = {"message": refused.message, "code": refused.code}
    return render(request, "portal/refused.html", context, status=refused.status_code)


publisher_only = portal_view(Role.PUBLISHER)
advertiser_only = portal_view(Role.ADVERTISER)
staff_only = portal_view(Role.STAFF)


def home_url_for(actor: Actor) -> str:
    return {
        Role.STAFF: "payouts_portal:staff-home",
        Role.ADVERTISER: "payouts_portal:adv-home",
        Role.PUBLISHER: "payouts_portal:pub-home",
    }.get(actor.role, "portal:pending")
