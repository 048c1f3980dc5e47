"""Sign-up, login, logout and password reset (Django's auth views with our templates)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse_lazy

from affiliates.lockout import attempt_locked, attempt_record, lockout_reset, lockout_response
from affiliates.models import Publisher
from affiliates.portal.access import home_url_for, portal_view, staff_act
from affiliates.portal.forms import SignupForm
from affiliates.portal.services import publisher_signup
from affiliates.roles import Role, actor_for


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("portal:login")
    return redirect(home_url_for(actor_for(request.user)))


def signup(request: HttpRequest) -> HttpResponse:
    # Every sign-up counts against the IP (mass accounts, probing which e-mails are taken).
    if request.method == "POST":
        if attempt_locked(request=request, account=None):
            return lockout_response(request)
        attempt_record(request=request, account=None)
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        publisher_signup(
            company=data["company"],
            email=data["email"],
            password=data["password1"],
            website=data["website"],
            traffic=data["traffic"],
        )
        messages.success(request, "Thanks! Your application is in. We review new publishers within a day.")
        return redirect("portal:login")
    return render(request, "portal/auth/signup.html", {"form": form})


@login_required
def pending(request: HttpRequest) -> HttpResponse:
    """Where a publisher whose account is not (yet) active lands after login."""
    publisher = Publisher.objects.filter(members__pk=request.user.pk or 0).first()
    if publisher is not None and publisher.status == Publisher.Status.ACTIVE:
        return redirect("payouts_portal:pub-home")
    return render(request, "portal/auth/pending.html", {"publisher": publisher})


class LoginView(auth_views.LoginView):
    template_name = "portal/auth/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    next_page = "portal:login"


_password_reset = auth_views.PasswordResetView.as_view(
    template_name="portal/auth/password_reset.html",
    email_template_name="portal/auth/password_reset_email.txt",
    subject_template_name="portal/auth/password_reset_subject.txt",
    success_url=reverse_lazy("portal:password-reset-done"),
)


def password_reset(request: HttpRequest) -> HttpResponseBase:
    """Every reset request counts, per IP and per address (it sends mail: no mail-bombing)."""
    if request.method == "POST":
        account = "password-reset:" + request.POST.get("email", "").strip().lower()[:200]
        if attempt_locked(request=request, account=account):
            return lockout_response(request)
        attempt_record(request=request, account=account)
    return _password_reset(request)


password_reset_done = auth_views.PasswordResetDoneView.as_view(
    template_name="portal/auth/password_reset_done.html"
)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "portal/auth/password_reset_confirm.html"
    success_url = reverse_lazy("portal:password-reset-complete")

    def form_valid(self, form: Any) -> HttpResponse:
        # The e-mailed link proves the account is theirs: lift its lockout, so someone who
        # locked it by guessing cannot keep its owner out. The address's lock stays.
        lockout_reset(kind="account", key=form.user.get_username())
        return super().form_valid(form)


password_reset_confirm = PasswordResetConfirmView.as_view()
password_reset_complete = auth_views.PasswordResetCompleteView.as_view(
    template_name="portal/auth/password_reset_complete.html"
)


class PasswordChangeView(auth_views.PasswordChangeView):
    """Any portal user changes their password: the old one, then the new one twice (checked
    by AUTH_PASSWORD_VALIDATORS). The session stays signed in; other sessions are signed out."""

    template_name = "portal/account/password_change.html"
    success_url = reverse_lazy("portal:home")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        messages.success(self.request, "Your password was changed.")
        return response


password_change = portal_view(Role.STAFF, Role.ADVERTISER, Role.PUBLISHER)(
    staff_act(None)(PasswordChangeView.as_view())  # one's own password
)
