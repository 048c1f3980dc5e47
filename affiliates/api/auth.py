"""API token authentication that counts bad tokens against the client's IP (affiliates.lockout).

A token names no account until it is valid, so guessing is throttled per IP: AXES_FAILURE_LIMIT
bad tokens within AXES_COOLOFF_TIME, and every token-authenticated request from that IP gets
``429 {"code": "locked_out"}`` until the cool-off passes or staff lift the lock.
"""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, status
from rest_framework.authentication import TokenAuthentication, get_authorization_header
from rest_framework.request import Request

from affiliates.core.audit import audit_actor_set
from affiliates.lockout import LOCKED_OUT_CODE, attempt_locked, attempt_record, lockout_message


class LockedOut(exceptions.APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = LOCKED_OUT_CODE
    default_detail = "Too many failed attempts."


class LockoutTokenAuthentication(TokenAuthentication):
    def authenticate(self, request: Request) -> Any:
        words = get_authorization_header(request).split()
        if not words or words[0].lower() != self.keyword.lower().encode():
            return None  # no token offered: nothing to count (sessions are counted at login)
        django_request = request._request
        if attempt_locked(request=django_request, account=None):
            raise LockedOut(lockout_message())
        try:
            found = super().authenticate(request)
        except exceptions.AuthenticationFailed:
            attempt_record(request=django_request, account=None)
            raise
        if found is not None:
            audit_actor_set(found[0])  # the middleware ran before DRF knew who this is
        return found
