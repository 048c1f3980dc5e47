"""The account area every portal user has: two-factor authentication and API keys.

Two-factor: the code prompt after the password (``otp_verify``), enrolment with a QR code
(``otp_setup``; staff are sent there until they have a device), then the recovery codes shown
once; new recovery codes and turning it off need a current code. API keys: one page to create
(the key is shown once), list and revoke.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from affiliates.accounts import keys, twofactor
from affiliates.accounts.twofactor import CodeRefused, LockedOut, Owed
from affiliates.core.errors import DomainError
from affiliates.credentials import ApiKey
from affiliates.lockout import lockout_response
from affiliates.portal.access import portal_view, staff_act
from affiliates.portal.confirm import confirm_page, confirmed
from affiliates.portal.redirects import NEXT, next_safe, redirect_next
from affiliates.roles import Act, Role

any_role = portal_view(Role.STAFF, Role.ADVERTISER, Role.PUBLISHER)


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=40,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "spellcheck": "false", "size": 12}
        ),
        help_text="The 6-digit code from your authenticator app, or one of your recovery codes.",
    )


class SetupForm(forms.Form):
    code = forms.CharField(
        label="Code from the app",
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "size": 8}),
    )


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label="Name", max_length=100, help_text="What uses it, e.g. “nightly report sync”."
    )
    expires = forms.DateField(
        label="Expires after",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Optional. The key stops working at the end of this day (UTC).",
    )
    read_only = forms.BooleanField(label="Read-only (GET requests only)", required=False)

    def clean_expires(self) -> datetime | None:
        day = self.cleaned_data.get("expires")
        if day is None:
            return None
        expires_at = datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)
        if expires_at <= timezone.now():
            raise forms.ValidationError("Pick today or a later day.", code="expiry_past")
        return expires_at


def _code_error(form: forms.Form, refused: DomainError) -> None:
    form.add_error("code", forms.ValidationError(refused.message, code=refused.code))


@login_required
def otp_verify(request: HttpRequest) -> HttpResponseBase:
    """The second step of logging in: a TOTP code or a recovery code."""
    if twofactor.twofactor_owed(user=request.user) is not Owed.CODE:
        return redirect_next(request, "portal:home")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            twofactor.twofactor_verify(request=request, code=form.cleaned_data["code"])
        except LockedOut:
            return lockout_response(request)
        except CodeRefused as refused:
            _code_error(form, refused)
        else:
            return redirect_next(request, "portal:home")
    status = 400 if form.errors else 200
    nxt = next_safe(request, request.POST.get(NEXT) or request.GET.get(NEXT)) or ""
    return render(request, "portal/auth/otp_verify.html", {"form": form, "next": nxt}, status=status)


@any_role
@staff_act(None)  # one's own second factor
def otp_manage(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    context = {
        "enabled": twofactor.twofactor_enabled(user=user),
        "required": twofactor.twofactor_required(user=user),
        "codes_left": twofactor.recovery_codes_left(user=user),
        "form": CodeForm(),
    }
    return render(request, "portal/account/two_factor.html", context)


@any_role
@staff_act(None)  # one's own second factor
def otp_setup(request: HttpRequest) -> HttpResponseBase:
    """Enrolment: the secret and its QR code, confirmed with a code, then the recovery codes.

    A session that owes a code cannot come here to replace the device it has: it is sent to
    the prompt. Turning 2FA on again (a new phone) needs a verified session."""
    user: Any = request.user
    owed = twofactor.twofactor_owed(user=user)
    if owed is Owed.CODE:
        return redirect("portal:otp-verify")
    if owed is Owed.NOTHING and twofactor.twofactor_enabled(user=user):
        messages.info(request, "Two-factor authentication is already on.")
        return redirect("portal:otp-manage")
    device = twofactor.totp_pending(user=user)
    form = SetupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = twofactor.twofactor_enable(request=request, device=device, code=form.cleaned_data["code"])
        except CodeRefused as refused:
            _code_error(form, refused)
        else:
            nxt = next_safe(request, request.POST.get(NEXT) or request.GET.get(NEXT)) or ""
            return _codes_page(request, codes, just_enabled=True, next_url=nxt)
    context = {
        "form": form,
        "secret": twofactor.totp_secret(device),
        "qr_svg": twofactor.totp_qr_svg(device),
        "forced": owed is Owed.ENROLMENT,
        "next": next_safe(request, request.GET.get(NEXT) or request.POST.get(NEXT)) or "",
    }
    return render(
        request, "portal/account/two_factor_setup.html", context, status=400 if form.errors else 200
    )


def _codes_page(
    request: HttpRequest, codes: list[str], *, just_enabled: bool, next_url: str = ""
) -> HttpResponse:
    context = {"codes": codes, "just_enabled": just_enabled, "next": next_url}
    response = render(request, "portal/account/recovery_codes.html", context)
    response["Cache-Control"] = "no-store"  # shown once: not kept by the browser's cache either
    return response


def _with_code(request: HttpRequest, action: Any) -> HttpResponseBase:
    form = CodeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter a current code.")
        return redirect("portal:otp-manage")
    try:
        result = action(request=request, code=form.cleaned_data["code"])
    except LockedOut:
        return lockout_response(request)
    except DomainError as refused:
        messages.error(request, refused.message)
        return redirect("portal:otp-manage")
    if isinstance(result, list):
        return _codes_page(request, result, just_enabled=False)
    return redirect("portal:otp-manage")


@require_POST
@any_role
@staff_act(None)  # one's own second factor
def otp_recovery_codes(request: HttpRequest) -> HttpResponseBase:
    return _with_code(request, twofactor.recovery_codes_regenerate)


@require_POST
@any_role
@staff_act(None)  # one's own second factor
def otp_disable(request: HttpRequest) -> HttpResponseBase:
    response = _with_code(request, twofactor.twofactor_disable)
    if not twofactor.twofactor_enabled(user=request.user):
        messages.success(request, "Two-factor authentication is off.")
    return response


@any_role
@staff_act(Act.MANAGE_KEYS)
def api_keys(request: HttpRequest) -> HttpResponse:
    """List, and create (POST): the new key is in this one response and never again."""
    form = ApiKeyForm(request.POST or None)
    created: keys.NewKey | None = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created = keys.apikey_create(
                user=request.user, name=data["name"], read_only=data["read_only"], expires_at=data["expires"]
            )
        except DomainError as refused:
            form.add_error(None, refused.message)
        else:
            form = ApiKeyForm()
    now = timezone.now()
    rows = [(row, keys.apikey_status(row, now=now)) for row in keys.apikeys_of(user=request.user)]
    context = {"form": form, "rows": rows, "created": created}
    response = render(request, "portal/account/api_keys.html", context, status=400 if form.errors else 200)
    if created is not None:
        response["Cache-Control"] = "no-store"
    return response


@require_POST
@any_role
@staff_act(Act.MANAGE_KEYS)
def api_key_revoke(request: HttpRequest, key_id: int) -> HttpResponseBase:
    if not confirmed(request):
        row = keys.apikeys_of(user=request.user).filter(pk=key_id, revoked_at__isnull=True).first()
        if row is None:
            messages.error(request, "No such key.")
            return redirect("portal:api-keys")
        return confirm_page(
            request,
            title=f"Revoke “{row.name}”",
            effects=[
                f"The key {row.prefix}… stops working at once: every script or integration using it "
                "gets 401 from its next call.",
                "A revoked key cannot be restored; create a new key and put it where this one was.",
            ],
            action=request.path,
            button="Revoke key",
            cancel=reverse("portal:api-keys"),
        )
    try:
        row = keys.apikey_revoke(user=request.user, key_id=key_id)
    except ApiKey.DoesNotExist:
        messages.error(request, "No such key.")
    except DomainError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, f"“{row.name}” ({row.prefix}…) is revoked: it no longer works.")
    return redirect("portal:api-keys")
