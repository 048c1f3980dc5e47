"""API authentication: token keys that count bad tokens against the client's IP
(affiliates.lockout), and sessions that count only once their second factor is in.

``Authorization: Token <key>`` takes two kinds of key (contract section 7): DRF authtoken keys
(``drf_create_token``) and the named keys users manage in the portal (``afn_...``,
affiliates.accounts.keys): hashed at rest, optionally read-only or expiring. Either acts as its
user; two-factor authentication does not apply to keys (they are the machine path).

A token names no account until it is valid, so guessing is throttled per IP: AXES_FAILURE_LIMIT
bad tokens within AXES_COOLOFF_TIME, and every token-authenticated request from that IP gets
``429 {"code": "locked_out"}`` until the cool-off passes or staff lift the lock.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.authentication import SessionScheme
from rest_framework import exceptions, status
from rest_framework.authentication import SessionAuthentication, TokenAuthentication, get_authorization_header
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request

from affiliates.accounts.keys import KeyRefused, apikey_authenticate, is_api_key
from affiliates.accounts.twofactor import Owed, twofactor_owed
from affiliates.core.audit import audit_actor_set
from affiliates.lockout import LOCKED_OUT_CODE, attempt_locked, attempt_record, lockout_message

NOT_GUESSES = frozenset({"key_revoked", "key_expired"})


class LockedOut(exceptions.APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = LOCKED_OUT_CODE
    default_detail = "Too many failed attempts."


class KeyReadOnly(exceptions.PermissionDenied):
    default_code = "key_read_only"
    default_detail = "This API key is read-only: it may only read (GET, HEAD, OPTIONS)."


class LockoutTokenAuthentication(TokenAuthentication):
    def authenticate(self, request: Request) -> Any:
        words = get_authorization_header(request).split()
        if not words or words[0].lower() != self.keyword.lower().encode():
            return None  # no token offered: nothing to count (sessions are counted at login)
        django_request = request._request
        if attempt_locked(request=django_request, account=None):
            raise LockedOut(lockout_message())
        try:
            result = super().authenticate(request)
        except exceptions.AuthenticationFailed as failed:
            # A revoked or expired key is no guess (a forgotten cron job): it is refused, not
            # counted, so it cannot lock its office's address out.
            if failed.get_codes() not in NOT_GUESSES:
                attempt_record(request=django_request, account=None)
            raise
        key = result[1] if result else None
        if getattr(key, "read_only", False) and request.method not in SAFE_METHODS:
            raise KeyReadOnly()
        if result is not None:
            audit_actor_set(result[0])  # the middleware ran before DRF knew who this is
        return result

    def authenticate_credentials(self, key: str) -> Any:
        if not is_api_key(key):
            return super().authenticate_credentials(key)
        try:
            row = apikey_authenticate(key=key)
        except KeyRefused as refused:
            raise exceptions.AuthenticationFailed(refused.message, code=refused.code) from refused
        return (row.user, row)


class VerifiedSessionAuthentication(SessionAuthentication):
    """A portal session, once it has passed its second factor where one is owed (a session
    between the password and the code is not signed in yet)."""

    def authenticate(self, request: Request) -> Any:
        result = super().authenticate(request)
        if result is not None and twofactor_owed(user=request._request.user) is not Owed.NOTHING:
            raise exceptions.AuthenticationFailed(
                "Finish signing in with your two-factor code first.", code="otp_required"
            )
        return result


class VerifiedSessionScheme(SessionScheme):  # type: ignore[no-untyped-call]  # untyped base
    """The OpenAPI schema's cookie scheme for the verified session (what it documents is the
    same session cookie)."""

    target_class = "affiliates.api.auth.VerifiedSessionAuthentication"
