"""/api/v1/ab-tests/ and /api/v1/budget-shifts/: advertisers on their offers, staff on all.

Publishers see neither (403). Another advertiser's test or shift does not exist (404).
"""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from affiliates.api.base import AccountStanding
from affiliates.core.db import db_id
from affiliates.models import Advertiser, Offer
from affiliates.roles import Act, actor_for, scope, visible
from payouts.experiments import abtests, shifts
from payouts.experiments.api.serializers import (
    AbTestInput,
    AbTestOutput,
    DecisionOutput,
    PromoteInput,
    ShiftOutput,
    ShiftSettingsSerializer,
)
from payouts.experiments.models import AbDecision, BudgetShift
from tracking.models import AbTest


class IsAdvertiserOrStaff(BasePermission):
    message = "Only advertisers and network staff run A/B tests and budget shifts."

    def has_permission(self, request: Request, view: Any) -> bool:
        actor = actor_for(request.user)
        return actor.is_staff or actor.is_advertiser


PERMISSIONS = [IsAuthenticated, IsAdvertiserOrStaff, AccountStanding]


class AbTestViewSet(
    mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[AbTest]
):
    """A/B tests of an offer's landing pages or creatives."""

    serializer_class = AbTestOutput
    permission_classes = PERMISSIONS
    account_act = Act.MANAGE_OFFERS
    filterset_fields = ["offer", "status", "kind"]
    ordering_fields = ["id", "created_at"]

    def get_queryset(self) -> Any:
        return abtests.ab_tests_visible(actor=actor_for(self.request.user)).prefetch_related(
            "variants", "decisions"
        )

    def _out(self, test: AbTest, code: int = status.HTTP_200_OK) -> Response:
        return Response(AbTestOutput(self.get_queryset().get(pk=test.pk)).data, status=code)

    @extend_schema(request=AbTestInput, responses={201: AbTestOutput})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """A draft test (POST start/ to run it). ``preset: weekly`` fills the practice's preset."""
        data = AbTestInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        actor = actor_for(request.user)
        offer: Offer = values.pop("offer")
        if not visible(Offer.objects.filter(pk=offer.pk), actor).exists():
            raise ValidationError({"offer": ["Invalid pk - object does not exist."]}, code="does_not_exist")
        if values.pop("preset", None) == "weekly":
            values = {**values, **abtests.PRESET_WEEKLY}
        specs = [abtests.VariantSpec(**v) for v in values.pop("variants")]
        test = abtests.ab_test_create(
            actor=actor, offer=offer, variants=specs, created_by=request.user, **values
        )
        return self._out(test, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=AbTestOutput)
    @action(detail=True, methods=["post"])
    def start(self, request: Request, pk: str | None = None) -> Response:
        """Start splitting the offer's clicks (409 when the offer already runs a test)."""
        return self._out(abtests.ab_test_start(actor=actor_for(request.user), test=self.get_object()))

    @extend_schema(request=None, responses=AbTestOutput)
    @action(detail=True, methods=["post"])
    def look(self, request: Request, pk: str | None = None) -> Response:
        """Take a look now (one of the planned looks, once every variant has its minimum sample)."""
        test = self.get_object()
        abtests.ab_test_look(test_id=test.pk, force=True)
        return self._out(test)

    @extend_schema(request=PromoteInput, responses=DecisionOutput)
    @action(detail=True, methods=["post"])
    def promote(self, request: Request, pk: str | None = None) -> Response:
        """One click: keep the winner (or the variant given), pause the others (409 no_winner)."""
        data = PromoteInput(data=request.data)
        data.is_valid(raise_exception=True)
        decision = abtests.ab_test_promote(
            actor=actor_for(request.user),
            test=self.get_object(),
            variant_id=data.validated_data["variant"],
            by=request.user,
        )
        return Response(DecisionOutput(decision).data)

    @extend_schema(request=None, responses=AbTestOutput)
    @action(detail=True, methods=["post"])
    def end(self, request: Request, pk: str | None = None) -> Response:
        """Close the test: the offer's own landing page takes every click again."""
        return self._out(abtests.ab_test_end(actor=actor_for(request.user), test=self.get_object()))

    @extend_schema(request=None, responses=DecisionOutput)
    @action(detail=True, methods=["post"], url_path=r"decisions/(?P<decision_id>[0-9]{1,18})/undo")
    def undo(self, request: Request, pk: str | None = None, decision_id: str | None = None) -> Response:
        """Undo a decision: the variants as they were, the test running again (409 already_undone)."""
        decision = get_object_or_404(AbDecision, test=self.get_object(), pk=decision_id)
        decision = abtests.ab_decision_undo(actor=actor_for(request.user), decision=decision, by=request.user)
        return Response(DecisionOutput(decision).data)


def _shifts_visible(request: Request) -> Any:
    actor = actor_for(request.user)
    # Publishers have no budget shifts; account managers their advertisers'.
    return scope(BudgetShift.objects.all(), actor, advertiser_path="advertiser_id", publisher_path=None)


class BudgetShiftViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[BudgetShift]
):
    """Each week's proposals to move 20-30 % of caps or weights from the lowest effect score
    to the highest."""

    serializer_class = ShiftOutput
    permission_classes = PERMISSIONS
    account_act = Act.MANAGE_OFFERS
    filterset_fields = ["advertiser", "week", "lever", "status"]
    ordering_fields = ["id", "week"]

    def get_queryset(self) -> Any:
        return _shifts_visible(self.request)

    @extend_schema(request=None, responses=ShiftOutput)
    @action(detail=True, methods=["post"])
    def apply(self, request: Request, pk: str | None = None) -> Response:
        """Apply the proposal (409 not_proposed: applied already, undone, or advice only)."""
        shift = shifts.budget_shift_apply(
            shift=self.get_object(), by=request.user, actor=actor_for(request.user)
        )
        return Response(ShiftOutput(shift).data)

    @extend_schema(request=None, responses=ShiftOutput)
    @action(detail=True, methods=["post"])
    def undo(self, request: Request, pk: str | None = None) -> Response:
        """Put the caps or weights back as they were before (409 not_applied)."""
        shift = shifts.budget_shift_undo(shift=self.get_object(), actor=actor_for(request.user))
        return Response(ShiftOutput(shift).data)

    @extend_schema(
        request=None,
        responses={201: ShiftOutput(many=True)},
        parameters=[OpenApiParameter("advertiser", int, description="Staff: whose proposals.")],
    )
    # The answer is the proposals made, all of them: not a page (and not documented as one).
    @action(detail=False, methods=["post"], pagination_class=None)
    def propose(self, request: Request) -> Response:
        """Make this week's proposals now (the weekly job does it on Mondays); none twice a week."""
        made = shifts.budget_shifts_propose(advertiser=_advertiser(request))
        return Response(ShiftOutput(made, many=True).data, status=status.HTTP_201_CREATED)


def _advertiser(request: Request) -> Advertiser:
    actor = actor_for(request.user)
    if actor.is_advertiser:
        return Advertiser.objects.get(pk=actor.advertiser_pk)
    raw = request.query_params.get("advertiser") or request.data.get("advertiser")
    advertiser_id = db_id(raw)
    if advertiser_id is None:
        raise ValidationError({"advertiser": ["Required."]}, code="required")
    return get_object_or_404(Advertiser, pk=advertiser_id)


class ShiftSettingsView(APIView):
    """GET or PUT the advertiser's budget-shift settings (staff: ?advertiser=)."""

    permission_classes = PERMISSIONS
    account_act = Act.MANAGE_OFFERS

    @extend_schema(responses=ShiftSettingsSerializer)
    def get(self, request: Request) -> Response:
        settings = getattr(_advertiser(request), "shift_settings", None)
        return Response(
            ShiftSettingsSerializer(settings).data if settings else {"auto_apply": False, "share": "0.25"}
        )

    @extend_schema(request=ShiftSettingsSerializer, responses=ShiftSettingsSerializer)
    def put(self, request: Request) -> Response:
        data = ShiftSettingsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        settings = shifts.shift_settings_set(advertiser=_advertiser(request), **data.validated_data)
        return Response(ShiftSettingsSerializer(settings).data)
