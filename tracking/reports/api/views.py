"""Reports API: thin views over tracking.reports.selectors and services."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from rest_framework import mixins, viewsets
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from affiliates.models import Offer
from affiliates.roles import actor_for, scope
from tracking.models.reports import OfferTarget
from tracking.reports.api.renderers import ReportCSVRenderer
from tracking.reports.api.serializers import (
    EffectParamsSerializer,
    OfferTargetSerializer,
    ReportParamsSerializer,
    report_data,
)
from tracking.reports.dimensions import FILTERS, parse_tz
from tracking.reports.selectors import effect_scores, report_rows
from tracking.reports.services import offer_target_clear, offer_target_set

DEFAULT_DAYS = 7


def _date_range(params: dict[str, Any]) -> tuple[Any, Any]:
    """Default: the last seven days, today included, in the report's time zone."""
    end = params.get("end") or timezone.now().astimezone(parse_tz(params.get("tz"))).date()
    start = params.get("start") or end - timedelta(days=DEFAULT_DAYS - 1)
    return start, end


class ReportView(APIView):
    """GET /api/v1/reports/?start=&end=&tz=&group_by=day,offer&offer=1,2&country=US&format=csv"""

    renderer_classes = [JSONRenderer, ReportCSVRenderer]

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
        response = Response(report_data(report))
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
        return Response(report_data(report))


class OfferTargetViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet[OfferTarget],
):
    """The advertiser's effect-score target per offer: PUT /api/v1/offer-targets/{offer_id}/."""

    serializer_class = OfferTargetSerializer
    lookup_field = "offer"
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
            offer=offer,
            conversions=serializer.validated_data["conversions"],
            period=serializer.validated_data.get("period", OfferTarget.Period.MONTH),
            user=request.user,
        )
        return Response(self.get_serializer(target).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not offer_target_clear(offer=self._offer()):
            raise Http404
        return Response(status=204)
