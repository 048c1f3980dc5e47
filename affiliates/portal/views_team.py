"""The account's Team page (advertisers and publishers; staff open a partner's with
``?advertiser=`` or ``?publisher=``), and the public page that accepts an invitation.

Thin: each POST calls one affiliates.team service; what a role may do is affiliates.roles'
call, and a refusal shows its reason code on the refused page (403), like every portal write.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.password_validation import password_validators_help_text_html
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse

from affiliates import team
from affiliates.core.db import db_id
from affiliates.core.errors import DomainError
from affiliates.portal.access import PortalRequest, account_refused, portal_view, staff_act
from affiliates.portal.confirm import confirm_page, confirmed
from affiliates.roles import AccountRefused, Act, Role, role_allows
from affiliates.team_models import TeamRole

team_members_view = portal_view(Role.ADVERTISER, Role.PUBLISHER, Role.STAFF)


class InviteForm(forms.Form):
    email = forms.EmailField(label="E-mail", max_length=254)
    role = forms.ChoiceField(label="Role", choices=TeamRole.choices, initial=TeamRole.ANALYST)


class AcceptForm(forms.Form):
    password1 = forms.CharField(label="Password", widget=forms.PasswordInput, max_length=128)
    password2 = forms.CharField(label="Password again", widget=forms.PasswordInput, max_length=128)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password1") != data.get("password2"):
            raise forms.ValidationError("The two passwords differ.")
        return data


def _account(request: PortalRequest) -> team.Account:
    try:
        return team.team_account(
            actor=request.actor,
            advertiser_id=db_id(request.GET.get("advertiser")),
            publisher_id=db_id(request.GET.get("publisher")),
        )
    except team.NotFound as missing:  # another tenant's team, like any invisible row
        raise Http404(missing.message) from missing


def _back(request: PortalRequest) -> HttpResponseBase:
    query = request.GET.urlencode()
    return redirect(reverse("portal:team") + (f"?{query}" if query else ""))


def _run(request: PortalRequest, done: str, change: Any) -> HttpResponseBase:
    """Run one team service; a refusal by role is the refused page (403), a broken rule (the
    last owner, a bad address) a message on the Team page."""
    try:
        change()
    except AccountRefused as refused:
        return account_refused(request, refused)
    except DomainError as refused:
        if refused.status_code == 404:
            raise
        messages.error(request, f"{refused.message} ({refused.code})")
    else:
        messages.success(request, done)
    return _back(request)


def _remove_confirm(
    request: PortalRequest, account: team.Account, user_id: int, leaving: bool
) -> HttpResponseBase:
    member = next(
        (m for m in team.team_members(account=account, actor=request.actor) if m.user_id == user_id), None
    )
    if member is None:
        raise Http404("No such member of this team.")
    query = request.GET.urlencode()
    if leaving:
        title = f"Leave {account.name}"
        effects = [
            f"You lose access to {account.name}'s portal and API at once; your own login stays.",
            "Only a team owner can invite you back. The last owner cannot leave.",
        ]
    else:
        title = f"Remove {member.username} from {account.name}"
        effects = [
            f"{member.username} ({member.email or 'no e-mail'}) loses access to {account.name}'s portal "
            "and API at once; their own login stays.",
            "What they did stays in the activity log under their name. You can invite them again later.",
        ]
    return confirm_page(
        request,
        title=title,
        effects=effects,
        action=request.get_full_path(),
        button="Leave team" if leaving else "Remove member",
        cancel=reverse("portal:team") + (f"?{query}" if query else ""),
    )


@team_members_view
def team_page(request: PortalRequest) -> HttpResponse:
    account = _account(request)
    form = InviteForm()
    context = {
        "account": account,
        "members": team.team_members(account=account, actor=request.actor),
        "invites": team.team_invites(account=account),
        "form": form,
        "may_manage": role_allows(request.actor, Act.MANAGE_TEAM),
        "roles": TeamRole.choices,
        "query": request.GET.urlencode(),
    }
    return render(request, "portal/account/team.html", context)


@team_members_view
@staff_act(Act.MANAGE_TEAM)
def team_invite(request: PortalRequest) -> HttpResponseBase:
    account = _account(request)
    form = InviteForm(request.POST)
    if request.method != "POST" or not form.is_valid():
        messages.error(request, "Enter an e-mail address and a role.")
        return _back(request)
    data = form.cleaned_data
    return _run(
        request,
        f"Invitation sent to {data['email']}.",
        lambda: team.team_invite(
            actor=request.actor, account=account, email=data["email"], role=data["role"], by=request.user
        ),
    )


@team_members_view
@staff_act(Act.MANAGE_TEAM)
def team_role(request: PortalRequest, user_id: int) -> HttpResponseBase:
    account = _account(request)
    role = request.POST.get("role", "") if request.method == "POST" else ""
    return _run(
        request,
        "Role changed.",
        lambda: team.team_member_role_set(actor=request.actor, account=account, user_id=user_id, role=role),
    )


@team_members_view
@staff_act(Act.MANAGE_TEAM)
def team_remove(request: PortalRequest, user_id: int) -> HttpResponseBase:
    if request.method != "POST":
        return _back(request)
    account = _account(request)
    leaving = user_id == request.actor.user_id
    if not confirmed(request):
        return _remove_confirm(request, account, user_id, leaving)
    response = _run(
        request,
        "You left the team." if leaving else "Member removed.",
        lambda: team.team_member_remove(actor=request.actor, account=account, user_id=user_id),
    )
    if leaving and not any(row.is_me for row in team.team_members(account=account, actor=request.actor)):
        return redirect("portal:home")  # no longer a member: home decides where they go
    return response


@team_members_view
@staff_act(Act.MANAGE_TEAM)
def team_invite_revoke(request: PortalRequest, invite_id: int) -> HttpResponseBase:
    if request.method != "POST":
        return _back(request)
    account = _account(request)
    return _run(
        request,
        "Invitation withdrawn.",
        lambda: team.team_invite_revoke(actor=request.actor, account=account, invite_id=invite_id),
    )


def team_accept(request: HttpRequest, token: str) -> HttpResponse:
    """Public: the invited person chooses a password and becomes a member."""
    try:
        invite = team.team_invite_open(token=token)
    except team.NotFound:
        return render(request, "portal/auth/team_accept.html", {"invite": None}, status=404)
    form = AcceptForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = team.team_invite_accept(token=token, password=form.cleaned_data["password1"])
        except team.NotFound:
            return render(request, "portal/auth/team_accept.html", {"invite": None}, status=404)
        except DomainError as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, f"Welcome! Sign in as {user.get_username()}.")
            return redirect("portal:login")
    context = {
        "invite": invite,
        "account": invite.advertiser or invite.publisher,
        "form": form,
        "help": password_validators_help_text_html(),
    }
    return render(request, "portal/auth/team_accept.html", context)
