"""API plumbing every app shares: pagination, tenant scoping and the one exception handler.

Every error leaves the API as ``{"code": ..., "message": ..., "fields": {...}}`` so clients can
branch on ``code`` without parsing prose.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.db.models import ProtectedError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from affiliates.api.permissions import staff_act_of
from affiliates.core.errors import DomainError
from affiliates.roles import Act, account_check, actor_for, role_check, scope


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request: Any) -> int | None:
        """``?page_size=`` is a whole number from 1 (larger ones are cut to max_page_size); DRF
        would silently use the default for ``abc`` or ``0``, so a client never learns its
        parameter was ignored: 400 ``bad_page_size`` instead."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None and not (raw.isascii() and raw.isdigit() and int(raw[:18]) > 0):
            raise exceptions.ValidationError(
                {self.page_size_query_param: ["A whole number from 1."]}, code="bad_page_size"
            )
        return super().get_page_size(request)

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        out = super().get_paginated_response_schema(schema)
        descriptions = {
            "count": "Rows matching the filters, over every page.",
            "next": "URL of the next page; null on the last page.",
            "previous": "URL of the previous page; null on the first page.",
            "results": "This page's rows.",
        }
        for name, text in descriptions.items():
            out["properties"][name]["description"] = text
        return out


def _first_code(detail: Any) -> str:
    if isinstance(detail, list) and detail:
        return _first_code(detail[0])
    if isinstance(detail, dict) and detail:
        return _first_code(next(iter(detail.values())))
    return str(getattr(detail, "code", "invalid"))


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        return Response({"code": exc.code, "message": exc.message}, status=exc.status_code)
    if isinstance(exc, ProtectedError):
        message = "Other records still refer to this one; deactivate it instead of deleting it."
        return Response({"code": "in_use", "message": message}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, IntegrityError):
        # Validation runs first, so this is a race with another writer (a unique key taken
        # meanwhile). The database refused the row; nothing was written.
        message = "The change conflicts with another record; reload and retry."
        return Response({"code": "conflict", "message": message}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DjangoValidationError):
        messages: Any = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(messages)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        fields = detail if isinstance(detail, dict) else {"non_field_errors": detail}
        response.data = {
            "code": _first_code(detail) if _first_code(detail) != "invalid" else "invalid",
            "message": "Invalid input.",
            "fields": fields,
        }
    elif isinstance(exc, exceptions.APIException):
        response.data = {
            "code": exc.get_codes() if isinstance(exc.get_codes(), str) else "error",
            "message": str(exc.detail),
        }
    return response


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404: a URL the API does not have (``/api/v1/offers/abc/``) answers in the API's
    JSON, like every other API error; other paths get Django's page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "not_found", "message": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400: a request Django itself refuses (a bad Host, too many fields, a body too
    large) answers in the API's JSON under /api/."""
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "bad_request", "message": "Bad request."}, status=400)
    return defaults.bad_request(request, exception)


class TenantScopedMixin:
    """Narrows a viewset's queryset to the requesting actor's tenant (see affiliates.roles).

    Set ``advertiser_path`` / ``publisher_path`` to the lookup from the model to the tenant id;
    leave one as None to hide the model from that role. Out-of-scope objects are 404.
    """

    advertiser_path: str | None = None
    publisher_path: str | None = None
    request: Any

    @property
    def actor(self) -> Any:
        return actor_for(self.request.user)

    def get_queryset(self) -> Any:
        qs = super().get_queryset()  # type: ignore[misc]
        return scope(qs, self.actor, advertiser_path=self.advertiser_path, publisher_path=self.publisher_path)


class AccountStanding(BasePermission):
    """Writes (any method but GET, HEAD, OPTIONS) need an account whose status allows the view's
    ``account_act`` (roles.account_check): 403 ``account_<status>`` otherwise."""

    def has_permission(self, request: Any, view: Any) -> bool:
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            actor = actor_for(request.user)
            # Staff act by their role: a view may name its staff act (``role_act``) apart from
            # the members' (a blocklist is the fraud analysts', an advertiser's its owners').
            if actor.is_staff:
                if (act := staff_act_of(view)) is not None:
                    role_check(actor, act)
            else:
                account_check(actor, view.account_act)
        return True


class IsStaff(BasePermission):
    """Network staff only (affiliates.roles decides who that is). Any staff role reads; a write
    needs the view's ``role_act`` (roles.STAFF_MAY; by default ``MANAGE_NETWORK``: admins only),
    else 403 ``role_not_allowed``."""

    def has_permission(self, request: Any, view: Any) -> bool:
        actor = actor_for(request.user)
        if not actor.is_staff:
            return False
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            role_check(actor, getattr(view, "role_act", Act.MANAGE_NETWORK))
        return True
