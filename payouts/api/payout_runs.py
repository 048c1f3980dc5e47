"""Payout runs and payouts API. Runs are the network's: staff only. Payouts: staff see all,
a publisher its own (read-only), an advertiser none; another tenant's payout is a 404."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from affiliates.api.base import IsStaff, TenantScopedMixin
from affiliates.roles import Act
from payouts import payout_runs as services
from payouts.api import serializers_payout_runs as s
from payouts.exports.payout_file import payout_file_csv, payout_file_name
from payouts.models import Payout, PayoutRun
from payouts.periods import period_parse


def attachment(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


class PayoutRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[PayoutRun]):
    queryset = PayoutRun.objects.all()
    serializer_class = s.PayoutRunSerializer
    permission_classes = [IsStaff]
    role_act = Act.MANAGE_PAYOUTS
    filterset_fields = ["status"]

    @extend_schema(request=s.PeriodInput, responses={200: s.PayoutRunSerializer, 202: s.PayoutRunSerializer})
    def create(self, request: Request) -> Response:
        """Build the run of ``period`` (YYYY-MM) in a worker. 202 while it builds; asking again
        returns the same run (200 once built) and never builds a second one."""
        data = s.PeriodInput(data=request.data)
        data.is_valid(raise_exception=True)
        run, _ = services.payout_run_request(period=period_parse(data.validated_data["period"]))
        code = status.HTTP_202_ACCEPTED if run.status == PayoutRun.Status.BUILDING else status.HTTP_200_OK
        return Response(self.get_serializer(run).data, status=code)

    @extend_schema(request=None, responses=s.PayoutRunSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        run = services.payout_run_approve(run=self.get_object(), user=request.user)
        return Response(self.get_serializer(run).data)

    @extend_schema(request=s.MarkRunPaidInput, responses=s.PayoutRunSerializer)
    @action(detail=True, methods=["post"], url_path="mark-paid")
    def mark_paid(self, request: Request, pk: str | None = None) -> Response:
        data = s.MarkRunPaidInput(data=request.data)
        data.is_valid(raise_exception=True)
        payments = data.validated_data.get("payments") or []
        run = services.payout_run_mark_paid(
            run=self.get_object(),
            references={p["payout"]: p["reference"] for p in payments},
            reference=data.validated_data.get("reference", ""),
        )
        return Response(self.get_serializer(run).data)

    @extend_schema(responses={(200, "text/csv"): OpenApiResponse(description="The payout file.")})
    @action(detail=True, methods=["get"], url_path="file")
    def payout_file(self, request: Request, pk: str | None = None) -> HttpResponse:
        run = self.get_object()
        return attachment(payout_file_csv(run=run), "text/csv; charset=utf-8", payout_file_name(run))


class PayoutViewSet(
    TenantScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Payout]
):
    queryset = Payout.objects.select_related("publisher")
    serializer_class = s.PayoutSerializer
    publisher_path = "publisher_id"
    role_act = Act.MANAGE_PAYOUTS
    filterset_fields = ["run", "status", "currency", "publisher"]
    ordering_fields = ["id", "amount", "created_at", "paid_at"]

    def get_permissions(self) -> list[BasePermission]:
        if self.action in ("fail", "mark_paid"):
            return [IsStaff()]
        return super().get_permissions()  # type: ignore[return-value]

    @extend_schema(request=s.ReasonInput, responses=s.PayoutSerializer)
    @action(detail=True, methods=["post"])
    def fail(self, request: Request, pk: str | None = None) -> Response:
        data = s.ReasonInput(data=request.data)
        data.is_valid(raise_exception=True)
        payout = services.payout_fail(payout=self.get_object(), reason=data.validated_data["reason"])
        return Response(self.get_serializer(payout).data)

    @extend_schema(request=s.ReferenceInput, responses=s.PayoutSerializer)
    @action(detail=True, methods=["post"], url_path="mark-paid")
    def mark_paid(self, request: Request, pk: str | None = None) -> Response:
        data = s.ReferenceInput(data=request.data)
        data.is_valid(raise_exception=True)
        payout = services.payout_mark_paid(
            payout=self.get_object(), reference=data.validated_data["reference"]
        )
        return Response(self.get_serializer(payout).data)
