"""A publisher's account activity for a period, as JSON, CSV or PDF: a live report of the ledger.

``GET /api/v1/statements/?period=YYYY-MM&format=json|csv|pdf`` (staff add ``&publisher=<id>``)

A publisher gets only its own; anything else, including another tenant's id, is a 404. The
documents the network issues (invoices, credit notes, self-billing statements), which never
change once issued, are under ``/api/v1/documents/`` (payouts.api.documents_issued).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from affiliates.core.db import db_id
from affiliates.core.errors import DomainError
from affiliates.models import Advertiser, Publisher
from affiliates.roles import Actor, actor_for, visible
from payouts.api.payout_runs import attachment
from payouts.exports.statements import statement_csv, statement_file_name, statement_for, statement_pdf
from payouts.periods import period_parse

FORMATS = ("json", "csv", "pdf")
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "pdf": "application/pdf"}


class JSONFirstNegotiation(DefaultContentNegotiation):
    """``?format=`` names the document's file type here, not a DRF renderer: always negotiate
    JSON (for errors and the JSON form) and let the view write CSV/PDF itself."""

    def select_renderer(self, request: Any, renderers: Any, format_suffix: Any = None) -> Any:
        return renderers[0], renderers[0].media_type


def _format(request: Request) -> str:
    fmt = request.query_params.get("format", "json").lower()
    if fmt not in FORMATS:
        raise DomainError("format must be json, csv or pdf.", code="bad_format")
    return fmt


def _tenant_id(request: Request, actor: Actor, *, param: str, own: int | None) -> int:
    """The tenant asked for: staff must name it; a member gets its own, and naming another is 404."""
    raw = request.query_params.get(param)
    if actor.is_staff:
        tenant = db_id(raw)
        if tenant is None:
            raise DomainError(f"{param} (an id) is required for staff.", code=f"{param}_required")
        model = Advertiser if param == "advertiser" else Publisher
        if not visible(model.objects.filter(pk=tenant), actor).exists():
            raise Http404  # not an account manager's account
        return tenant
    if own is None or (raw and raw != str(own)):
        raise Http404
    return own


_PARAMS = [
    OpenApiParameter("period", OpenApiTypes.STR, required=True, description="YYYY-MM"),
    OpenApiParameter(
        "format", OpenApiTypes.STR, enum=list(FORMATS), description="json (default), csv or pdf"
    ),
]


class StatementView(APIView):
    content_negotiation_class = JSONFirstNegotiation

    @extend_schema(
        parameters=[*_PARAMS, OpenApiParameter("publisher", OpenApiTypes.INT, description="staff only")],
        responses={
            200: OpenApiTypes.OBJECT,
            (200, "text/csv"): OpenApiTypes.STR,
            (200, "application/pdf"): OpenApiTypes.BINARY,
        },
    )
    def get(self, request: Request) -> Response | HttpResponse:
        actor = actor_for(request.user)
        period, fmt = period_parse(request.query_params.get("period")), _format(request)
        own = actor.publisher_id if actor.is_publisher else None
        publisher_id = _tenant_id(request, actor, param="publisher", own=own)
        publisher = Publisher.objects.filter(pk=publisher_id).first()
        if publisher is None:
            raise Http404
        statement = statement_for(publisher=publisher, period=period)
        if fmt == "json":
            return Response(asdict(statement))
        content = statement_csv(statement) if fmt == "csv" else statement_pdf(statement)
        return attachment(content, CONTENT_TYPES[fmt], statement_file_name(statement, fmt))
