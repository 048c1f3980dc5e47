"""The two-factor gate: a signed-in session that owes its second factor reaches nothing but the
code prompt, enrolment (staff without a device) and logout, on every page: the portals and
the Django admin alike.

The API is gated by its session authentication class instead (affiliates.api.auth), so a
request that carries an API key or token is not sent to a login page: keys are the machine path.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from affiliates.accounts.twofactor import Owed, twofactor_owed

#: Paths a session owing its code may still open (the prompt and enrolment are added at start).
OPEN_PREFIXES = ("/static/", "/healthz", "/api/", "/login/", "/logout/", "/admin/logout/")


class TwoFactorGateMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self._open: tuple[str, ...] | None = None

    def _open_prefixes(self) -> tuple[str, ...]:
        if self._open is None:  # URLconf is loaded after middleware: resolved on first use
            self._open = (*OPEN_PREFIXES, reverse("portal:otp-verify"), reverse("portal:otp-setup"))
        return self._open

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(self._open_prefixes()):
            return self.get_response(request)
        owed = twofactor_owed(user=request.user)
        if owed is Owed.NOTHING:
            return self.get_response(request)
        target = reverse("portal:otp-verify" if owed is Owed.CODE else "portal:otp-setup")
        return HttpResponseRedirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
