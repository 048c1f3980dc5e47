"""/api/v1/holdout-tests/: holdout incrementality tests, their reports, and modelled
incrementality per offer.

Scopes (tracking.holdouts.services.holdout_tests_visible): an advertiser starts and reads tests
on its own offers, staff on every offer; publishers see none. Lives in payouts because the
report prices the exposed arm's conversions from commissions (payouts.incrementality).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from affiliates.core.db import db_id
from affiliates.models import Offer, Publisher
from affiliates.roles import Act, actor_for, visible
from payouts.incrementality.modelled import modelled_incrementality
from payouts.incrementality.report import holdout_report_current
from payouts.incrementality.services import holdout_test_finish
from tracking.holdouts import services
from tracking.models.holdouts import HoldoutTest

EDITABLE = (
    "name", "holdout_share", "starts_at", "ends_at", "control", "control_url", "stopping", "minimum_lift",
)  # fmt: skip


class HoldoutInput(serializers.ModelSerializer[HoldoutTest]):
    offer = serializers.PrimaryKeyRelatedField(queryset=Offer.objects.all(), help_text="The offer tested.")
    publishers = serializers.PrimaryKeyRelatedField(
        queryset=Publisher.objects.all(),
        many=True,
        required=False,
        help_text="Limit the test to these publishers; empty: every publisher of the offer.",
    )
    starts_at = serializers.DateTimeField(required=False, help_text="When assignment starts; omitted: now.")

    class Meta:
        model = HoldoutTest
        fields = ("offer", "publishers", *EDITABLE)


class HoldoutOutput(serializers.ModelSerializer[HoldoutTest]):
    offer_name = serializers.CharField(source="offer.name", read_only=True, help_text="The offer's name.")

    class Meta:
        model = HoldoutTest
        fields = (
            "id", "offer", "offer_name", "publishers", *EDITABLE, "status", "stopped_at", "stop_reason",
            "created_at",
        )  # fmt: skip
        extra_kwargs = {"id": {"help_text": "Unique identifier."}}


class HoldoutDetail(HoldoutOutput):
    report = serializers.SerializerMethodField(
        help_text=(
            "Per-arm visitors, conversions and CVR; absolute and relative lift with 95 % intervals; "
            "incremental conversions and their cost; power; the sequential rule's verdict; modelled "
            "incrementality; and the explanation in plain words. Stored when the test stopped."
        )
    )

    class Meta(HoldoutOutput.Meta):
        fields = (*HoldoutOutput.Meta.fields, "report")  # type: ignore[assignment]

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_report(self, test: HoldoutTest) -> dict[str, Any]:
        return holdout_report_current(test=test)


class ModelledRow(serializers.Serializer[Any]):
    publisher_id = serializers.IntegerField(help_text="The publisher.")
    publisher_name = serializers.CharField(help_text="Its name.")
    orders_touched = serializers.IntegerField(
        help_text="Orders with at least one of its clicks in the window."
    )
    fractional_credit = serializers.FloatField(help_text="Sum of 1 / publishers touching each order.")
    incrementality = serializers.FloatField(help_text="fractional_credit / orders_touched (0 to 1).")
    last_click_orders = serializers.IntegerField(help_text="Orders attributed to it (the paid model).")


class HoldoutTestViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet[HoldoutTest],
):
    """Holdout tests: hold a share of an offer's visitors out, and measure the lift."""

    role_act = Act.MANAGE_OFFERS

    serializer_class = HoldoutOutput
    filterset_fields = ["offer", "status"]
    search_fields = ["name"]
    ordering_fields = ["created_at", "name"]

    def get_queryset(self) -> Any:
        return services.holdout_tests_visible(actor=actor_for(self.request.user))

    def get_serializer_class(self) -> Any:
        return HoldoutDetail if self.action in ("retrieve", "stop") else HoldoutOutput

    @extend_schema(request=HoldoutInput, responses={201: HoldoutDetail})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = HoldoutInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        offer = values.pop("offer")
        values["publishers"] = list(values.get("publishers", []))
        values.setdefault("starts_at", timezone.now())
        test = services.holdout_test_create(
            actor=actor_for(request.user), offer=offer, spec=services.HoldoutSpec(**values), user=request.user
        )
        out = HoldoutDetail(self.get_queryset().get(pk=test.pk), context={"request": request})
        return Response(out.data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: HoldoutDetail, 409: None})
    @action(detail=True, methods=["post"])
    def stop(self, request: Request, pk: str | None = None) -> Response:
        """Stop the test now, storing its report (409 ``not_running`` when it has stopped)."""
        test = self.get_object()
        actor = actor_for(request.user)
        services.holdout_test_may_stop(actor=actor, test=test)
        if not holdout_test_finish(test_id=test.pk, reason=HoldoutTest.StopReason.MANUAL):
            return Response(
                {"code": "not_running", "message": "The test has stopped already."},
                status=status.HTTP_409_CONFLICT,
            )
        return Response(HoldoutDetail(self.get_queryset().get(pk=test.pk), context={"request": request}).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("offer", int, required=True, description="The offer."),
            OpenApiParameter("days", int, description="The last N days (1 to 90, default 30)."),
        ],
        responses=ModelledRow(many=True),
    )
    # One row per publisher, all of them: not a page, and the list's filters do not apply (make
    # fuzz: the schema documented a page while the answer was the list).
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def modelled(self, request: Request) -> Response:
        """Impact-style modelled incrementality per publisher: fractional credit / orders touched."""
        actor = actor_for(request.user)
        if not (actor.is_staff or actor.is_advertiser):
            return Response({"code": "forbidden", "message": "Advertisers and staff only."}, status=403)
        offer_id = db_id(request.query_params.get("offer", ""))
        days = db_id(request.query_params.get("days", "30"))
        if offer_id is None or days is None or not 1 <= days <= 90:
            raise serializers.ValidationError(
                {"offer": ["An offer id is required."], "days": ["1 to 90."]}, code="invalid"
            )
        offer = get_object_or_404(visible(Offer.objects.all(), actor), pk=offer_id)
        end = timezone.now()
        rows = modelled_incrementality(offer=offer, start=end - timedelta(days=days), end=end)
        return Response(ModelledRow([r.as_dict() for r in rows], many=True).data)
