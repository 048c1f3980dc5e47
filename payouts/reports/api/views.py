"""Reports API: thin views over payouts.reports.selectors and services."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from affiliates.api.base import AccountStanding
from affiliates.models import Offer
from affiliates.offer_targets import OfferTarget, offer_target_clear, offer_target_set
from affiliates.roles import Act, actor_for, scope
from payouts.reports.api.renderers import ReportCSVRenderer
from payouts.reports.api.serializers import (
    FILTER_HELP,
    FILTER_NOTE,
    EffectParamsSerializer,
    OfferTargetSerializer,
    ReportParamsSerializer,
    ReportSerializer,
)
from payouts.reports.dimensions import FILTERS, INTEGER_FILTERS, MAX_ID_DIGITS, parse_tz
from payouts.reports.selectors import effect_scores, report_rows

DEFAULT_DAYS = 7
# Id filters are lists of integers (comma-separated: offer=1,2), the others comma-separated text.
ID_LIST = {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 10**MAX_ID_DIGITS - 1}}
FILTER_PARAMETERS = [
    OpenApiParameter(
        name,
        ID_LIST if name in INTEGER_FILTERS else OpenApiTypes.STR,
        explode=False if name in INTEGER_FILTERS else None,
        description=f"{FILTER_HELP[name]} {FILTER_NOTE}",
    )
    for name in FILTERS
]


def _date_range(params: dict[str, Any]) -> tuple[Any, Any]:
    """Default: the last seven days, today included, in the report's time zone."""
    end = params.get("end") or timezone.now().astimezone(parse_tz(params.get("tz"))).date()
    start = params.get("start") or end - timedelta(days=DEFAULT_DAYS - 1)
    return start, end


class ReportView(APIView):
    """GET /api/v1/reports/?start=&end=&tz=&group_by=day,offer&offer=1,2&country=US&format=csv"""

    renderer_classes = [JSONRenderer, ReportCSVRenderer]

    @extend_schema(
        summary="Traffic and money, grouped and filtered",
        description="Counts, amounts and ratios over local days, for the caller's role: publishers "
        "see their own traffic and never revenue, advertisers their offers' and never payout. "
        "Amounts are per currency. `?format=csv` returns the same columns as CSV, then one totals "
        "line per currency.",
        parameters=[
            ReportParamsSerializer,
            *FILTER_PARAMETERS,
            OpenApiParameter(
                "format", OpenApiTypes.STR, enum=["json", "csv"], description="json (default) or csv."
            ),
        ],
        responses={200: ReportSerializer, (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR)},
    )
    def get(self, request: Request) -> Response:
        params = ReportParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = dict(params.validated_data)
        start, end = _date_range(data)
        filters = {
            name: ",".join(request.query_params.getlist(name))
            for name in FILTERS
            if name in request.query_params
        }
        report = report_rows(
            actor=actor_for(request.user),
            start=start,
            end=end,
            tz=data["tz"],
            group_by=data["group_by"],
            filters=filters,
            order_by=data.get("order_by"),
            limit=data.get("limit"),
        )
        response = Response(ReportSerializer(report).data)
        if getattr(request.accepted_renderer, "format", "") == "csv":
            name = f"report-{report.query.start.isoformat()}-{report.query.end.isoformat()}.csv"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    def handle_exception(self, exc: Exception) -> Response:
        # Errors always answer in JSON, even to ?format=csv, so clients can read the code.
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = "application/json"
        return super().handle_exception(exc)


class EffectScoreView(APIView):
    """GET /api/v1/reports/effect/?by=publisher|sub1|offer&offer=&start=&end=&tz="""

    @extend_schema(
        summary="Effect scores: which traffic meets the offer's target best",
        description="A report grouped by offer (and publisher or sub1), ordered by effect_score, "
        "highest first. Staff and advertisers only: publishers get 403.",
        parameters=[EffectParamsSerializer],
        responses={200: ReportSerializer},
    )
    def get(self, request: Request) -> Response:
        params = EffectParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = dict(params.validated_data)
        start, end = _date_range(data)
        report = effect_scores(
            actor=actor_for(request.user),
            start=start,
            end=end,
            by=data["by"],
            offer=data.get("offer"),
            tz=data["tz"],
        )
        return Response(ReportSerializer(report).data)


class OfferTargetViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet[OfferTarget],
):
    """The advertiser's effect-score target per offer: PUT /api/v1/offer-targets/{offer_id}/."""

    serializer_class = OfferTargetSerializer
    lookup_field = "offer"
    permission_classes = [IsAuthenticated, AccountStanding]
    account_act = Act.MANAGE_OFFERS  # a suspended advertiser sets no targets
    queryset = OfferTarget.objects.select_related("offer").order_by("offer_id")

    def get_queryset(self) -> Any:
        actor = actor_for(self.request.user)
        return scope(
            super().get_queryset(), actor, advertiser_path="offer__advertiser_id", publisher_path=None
        )

    def _offer(self) -> Offer:
        actor = actor_for(self.request.user)
        if not (actor.is_staff or actor.is_advertiser):
            raise Http404
        offers = scope(Offer.objects.all(), actor, advertiser_path="advertiser_id", publisher_path=None)
        return get_object_or_404(offers, pk=self.kwargs["offer"])

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        offer = self._offer()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        target = offer_target_set(
            offer_id=offer.pk,
            conversions=serializer.validated_data["conversions"],
            period=serializer.validated_data.get("period", OfferTarget.Period.MONTH),
            user=request.user,
        )
        return Response(self.get_serializer(target).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not offer_target_clear(offer_id=self._offer().pk):
            raise Http404
        return Response(status=204)
