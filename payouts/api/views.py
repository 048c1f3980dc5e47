"""Payouts API: commissions (with approve / reject / reverse, bulk and CSV adjustments),
ledger entries (read-only), balances and FX rates. Scoped like every other endpoint: a
publisher sees its own, an advertiser its offers', staff everything; other tenants' rows 404."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django_filters import rest_framework as filters
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from affiliates.api.base import TenantScopedMixin
from affiliates.api.lookups import IdFilterSet
from affiliates.core.errors import DomainError
from affiliates.core.money import money_round
from affiliates.models import FxRate
from affiliates.roles import Act, account_check, actor_for, role_check, scope_q
from payouts import selectors, services
from payouts.adjustments import adjustments_apply
from payouts.api import serializers as s
from payouts.models import Commission, CommissionStatus, Entry
from tracking.api.filters import CustomerFilter

ACTIONS = {
    "approve": CommissionStatus.APPROVED,
    "reject": CommissionStatus.REJECTED,
    "reverse": CommissionStatus.REVERSED,
}
MAX_UPLOAD_BYTES = 10 * 1024 * 1024


def refused(exc: services.BulkRefused, *, ref_name: str) -> Response:
    errors = [{ref_name: e.ref, "code": e.code, "message": e.message} for e in exc.errors]
    return Response({"code": exc.code, "message": exc.message, "errors": errors}, status=400)


class CommissionFilter(IdFilterSet):
    day_from = filters.DateFilter(field_name="day", lookup_expr="gte")
    customer = CustomerFilter(advertiser_path="advertiser_id", hash_path="conversion__customer_hash")
    day_to = filters.DateFilter(field_name="day", lookup_expr="lte")

    class Meta:
        model = Commission
        fields = [
            "status",
            "kind",
            "offer",
            "publisher",
            "advertiser",
            "goal",
            "currency",
            "conversion",
            "held_for_review",
        ]


class CommissionViewSet(TenantScopedMixin, viewsets.ReadOnlyModelViewSet[Commission]):
    role_act = Act.DECIDE_COMMISSIONS
    queryset = Commission.objects.select_related("conversion")
    serializer_class = s.CommissionSerializer
    advertiser_path = "advertiser_id"
    publisher_path = "publisher_id"
    filterset_class = CommissionFilter
    ordering_fields = ["created_at", "day", "payout", "revenue", "id"]
    search_fields = ["source_key", "conversion__txn_id"]
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "role": str(self.actor.role)}

    def _require_manager(self) -> None:
        if not (self.actor.is_staff or self.actor.is_advertiser):
            raise PermissionDenied("Only the advertiser or the network can change commissions.")
        account_check(self.actor, Act.DECIDE_COMMISSIONS)

    def _single(self, request: Request, pk: str, status_: str) -> Response:
        self._require_manager()
        commission = self.get_object()  # 404 for another tenant's commission
        body = s.ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        changed = services.commission_set_status(
            commission_id=commission.pk,
            status=status_,
            reason=body.validated_data["reason"],
            actor=self.actor,
        )
        return Response(self.get_serializer(changed).data)

    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str) -> Response:
        return self._single(request, pk, CommissionStatus.APPROVED)

    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str) -> Response:
        return self._single(request, pk, CommissionStatus.REJECTED)

    @action(detail=True, methods=["post"])
    def reverse(self, request: Request, pk: str) -> Response:
        return self._single(request, pk, CommissionStatus.REVERSED)

    @action(detail=True, methods=["post"])
    def release(self, request: Request, pk: str) -> Response:
        """Staff: lift a fraud-review hold. It stays pending: the hold period and the
        advertiser's decision still apply (approve it to skip them)."""
        self._require_manager()
        commission = self.get_object()
        body = s.ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if commission.conversion_id is None:
            raise DomainError(
                "Only a conversion's commission is held for review.", code="not_held", status_code=409
            )
        try:
            services.conversions_release(
                conversion_ids=[commission.conversion_id],
                actor=self.actor,
                reason=body.validated_data["reason"],
            )
        except services.BulkRefused as exc:
            error = exc.errors[0]
            status_code = 403 if error.code == "held_for_review" else 409
            raise DomainError(error.message, code=error.code, status_code=status_code) from exc
        commission.refresh_from_db()
        return Response(self.get_serializer(commission).data)

    @action(detail=False, methods=["post"])
    def bulk(self, request: Request) -> Response:
        """``{"ids": [...], "action": "approve|reject|reverse", "reason": "..."}``: all or none."""
        self._require_manager()
        body = s.BulkActionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            changed = services.commissions_set_status(
                commission_ids=body.validated_data["ids"],
                status=ACTIONS[body.validated_data["action"]],
                reason=body.validated_data["reason"],
                actor=self.actor,
            )
        except services.BulkRefused as exc:
            return refused(exc, ref_name="id")
        return Response({"changed": len(changed), "results": self.get_serializer(changed, many=True).data})

    @action(detail=False, methods=["post"])
    def adjustments(self, request: Request) -> Response:
        """Multipart ``file``: a CSV of txn_id, status and/or amount, reason (+ offer_id)."""
        self._require_manager()
        body = s.AdjustmentUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        upload = body.validated_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError({"file": ["At most 10 MB."]}, code="file_too_large")
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ValidationError({"file": ["The file must be UTF-8 CSV."]}, code="bad_encoding") from exc
        try:
            changed = adjustments_apply(text=text, actor=self.actor)
        except services.BulkRefused as exc:
            return refused(exc, ref_name="line")
        return Response({"applied": len(changed)}, status=status.HTTP_200_OK)


class EntryViewSet(viewsets.ReadOnlyModelViewSet[Entry]):
    serializer_class = s.EntrySerializer
    filterset_fields = {
        "account": ["exact"],
        "currency": ["exact"],
        "transaction": ["exact"],
        "transaction__kind": ["exact"],
        "transaction__commission": ["exact"],
        "transaction__payout": ["exact"],
        "account__kind": ["exact"],
        "created_at": ["gte", "lt"],
    }
    ordering_fields = ["id", "created_at"]

    def get_queryset(self) -> Any:
        return selectors.entries_for_actor(actor_for(self.request.user)).order_by("id")


class BalanceView(APIView):
    """Staff: every account's balance (filter with kind, publisher, advertiser, currency).
    A publisher: its pending / approved / paid per currency. An advertiser: pending / approved."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Balances from the ledger",
        description="Sums of ledger entries, never a stored figure. A publisher gets its pending, "
        "approved and paid amounts per currency; an advertiser what it owes, pending and approved; "
        "staff every ledger account with its balance, narrowed by the filters (ignored for others).",
        parameters=[s.BalanceParamsSerializer],
        responses=PolymorphicProxySerializer(
            component_name="Balances",
            serializers=[
                s.PublisherBalanceSerializer,
                s.AdvertiserBalanceSerializer,
                s.AccountBalancesSerializer,
            ],
            resource_type_field_name=None,
        ),
    )
    def get(self, request: Request) -> Response:
        actor = actor_for(request.user)
        if actor.is_publisher:
            summary = selectors.publisher_summary(publisher_id=actor.publisher_id or 0)
            out = {"publisher": actor.publisher_id, "balances": _strings(summary)}
            return Response(s.PublisherBalanceSerializer(out).data)
        if actor.is_advertiser:
            summary = selectors.advertiser_summary(advertiser_id=actor.advertiser_id or 0)
            out = {"advertiser": actor.advertiser_id, "balances": _strings(summary)}
            return Response(s.AdvertiserBalanceSerializer(out).data)
        if not actor.is_staff:
            raise PermissionDenied()
        params = s.BalanceParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        mine = scope_q(actor, advertiser_path="advertiser_id", publisher_path="publisher_id")
        rows = selectors.account_balances(filters=Q(**params.validated_data) & mine)
        accounts = [{**r, "balance": str(money_round(r["balance"], r["currency"]))} for r in rows]
        return Response(s.AccountBalancesSerializer({"accounts": accounts}).data)


def _strings(summary: dict[str, dict[str, Any]]) -> dict[str, dict[str, str]]:
    # Balances are sums of amounts already at the currency's minor unit, so money_round only
    # fixes the number of places shown ("17.50", "1250", "1.100"); it never changes the value.
    return {
        cur: {k: str(money_round(v, cur)) for k, v in figures.items()} for cur, figures in summary.items()
    }


class StaffWrites(BasePermission):
    """Anyone signed in reads; staff whose role manages money (roles.STAFF_MAY) write."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return bool(request.user and request.user.is_authenticated)
        actor = actor_for(request.user)
        if actor.is_staff:
            role_check(actor, Act.MANAGE_PAYOUTS)
        return actor.is_staff


class FxRateViewSet(viewsets.ModelViewSet[FxRate]):
    queryset = FxRate.objects.all()
    serializer_class = s.FxRateSerializer
    permission_classes = [StaffWrites]
    filterset_fields = ["base", "quote"]
    ordering_fields = ["valid_from", "base", "quote"]
