"""Brute-force lockout, on django-axes: one counter for every way in.

Counted, per client IP and per account, within AXES_COOLOFF_TIME:
- failed logins, on the portal and the admin (Django's ``authenticate`` reports them to axes);
- password-reset requests, under the account ``password-reset:<email>`` (so mail-bombing a user
  does not also lock that user out of logging in);
- sign-ups and bad API tokens, per IP only (they name no account: a shared "no account" counter
  would let one client lock everybody out).

At AXES_FAILURE_LIMIT the IP, or the account, is refused until the cool-off passes or staff lift
the lock (``lockout_reset``; the staff console's Lockouts page). A refused portal or admin request
gets the "locked out" page, an API request ``429 {"code": "locked_out", ...}``; both with
Retry-After.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt, AccessBase
from django.conf import settings
from django.db.models import Max, Sum
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone

LOCKED_OUT_CODE = "locked_out"


class LockoutBackend(AxesStandaloneBackend):  # type: ignore[misc]  # axes is untyped
    """Refuses a locked-out (IP, account) before the password is checked.

    ``authenticate`` without a request comes from no network client (management commands, the
    test client's ``login()``): there is no IP to count, so it passes to the next backend.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            return None
        super().authenticate(request, username, password, **kwargs)
        return None


def lockout_parameters(request_or_attempt: HttpRequest | AccessBase, credentials: Any = None) -> list[str]:
    """AXES_LOCKOUT_PARAMETERS: per IP always; per account too when the attempt names one."""
    if isinstance(request_or_attempt, AccessBase):
        username = request_or_attempt.username
    else:
        username = get_client_username(request_or_attempt, credentials)
    return ["ip_address", "username"] if username else ["ip_address"]


def attempt_locked(*, request: HttpRequest, account: str | None) -> bool:
    """True when this request's IP, or ``account``, is locked out now."""
    return bool(AxesProxyHandler.is_locked(request, {"username": account}))


def attempt_record(*, request: HttpRequest, account: str | None) -> None:
    """Counts one attempt of a kind axes does not see by itself (reset, sign-up, API token).

    The request being recorded still gets its own answer: a lock it reaches refuses the next one.
    """
    AxesProxyHandler.user_login_failed(sender=__name__, credentials={"username": account}, request=request)
    request.axes_locked_out = False  # type: ignore[attr-defined]


def cooloff_seconds() -> int:
    cool_off = get_cool_off()
    return int(cool_off.total_seconds()) if cool_off else 0


def lockout_message() -> str:
    minutes = max(1, cooloff_seconds() // 60)
    return (
        "Too many failed attempts from this address or for this account. "
        f"Try again in {minutes} minutes, or ask the network's staff to lift the lock."
    )


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the answer to a refused login, reset, sign-up or API call."""
    headers = {"Retry-After": str(cooloff_seconds())} if cooloff_seconds() else {}
    if request.path.startswith("/api/"):
        body = {"code": LOCKED_OUT_CODE, "message": lockout_message()}
        return JsonResponse(body, status=429, headers=headers)
    response = render(request, "portal/auth/locked_out.html", {"message": lockout_message()}, status=429)
    for name, value in headers.items():
        response[name] = value
    return response


@dataclass(frozen=True)
class Lockout:
    """One IP or one account at or over the failure limit within the cool-off."""

    kind: str  # "ip" or "account"
    key: str
    failures: int
    last_attempt: datetime


def lockouts_current() -> list[Lockout]:
    attempts = AccessAttempt.objects.all()
    cool_off: timedelta | None = get_cool_off()
    if cool_off:
        attempts = attempts.filter(attempt_time__gte=timezone.now() - cool_off)
    limit = settings.AXES_FAILURE_LIMIT
    out: list[Lockout] = []
    for kind, field in (("ip", "ip_address"), ("account", "username")):
        rows = (
            attempts.exclude(**{f"{field}__isnull": True})
            .values(field)
            .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
            .filter(failures__gte=limit)
            .order_by("-last")
        )
        out += [Lockout(kind, row[field], row["failures"], row["last"]) for row in rows]
    return out


def lockout_reset(*, kind: str, key: str) -> int:
    """Lifts one lock: forgets the counted attempts of that IP or that account."""
    if kind == "ip":
        return int(AxesProxyHandler.reset_attempts(ip_address=key))
    if kind == "account":
        return int(AxesProxyHandler.reset_attempts(username=key))
    raise ValueError(f"unknown lockout kind {kind!r}")
