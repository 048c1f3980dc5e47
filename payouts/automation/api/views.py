"""Automation rules API: advertisers manage rules on their offers, staff on every offer.

Publishers have no rules (403); another advertiser's rule or firing does not exist (404).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from affiliates.api.base import AccountStanding
from affiliates.models import Offer, Publisher
from affiliates.roles import Act, actor_for, may_manage, visible
from payouts.automation import selectors, services
from payouts.automation.api.serializers import FiringSerializer, RuleSerializer
from payouts.automation.models import Firing, Rule


class IsAdvertiserOrStaff(BasePermission):
    message = "Only advertisers and network staff manage automation rules."

    def has_permission(self, request: Request, view: Any) -> bool:
        actor = actor_for(request.user)
        return actor.is_staff or actor.is_advertiser


def _checked_offer(request: Request, data: dict[str, Any]) -> None:
    """The offer must be one the caller sees and manages, the publisher one it sees; another
    tenant's is 'does not exist', as a missing id is."""
    actor = actor_for(request.user)
    publisher: Publisher | None = data.get("publisher")
    if publisher is not None and not visible(Publisher.objects.filter(pk=publisher.pk), actor).exists():
        raise ValidationError({"publisher": ["Invalid pk - object does not exist."]}, code="does_not_exist")
    offer: Offer | None = data.get("offer")
    if offer is not None and not (
        visible(Offer.objects.filter(pk=offer.pk), actor).exists() and may_manage(actor, offer)
    ):
        raise ValidationError({"offer": ["Invalid pk - object does not exist."]}, code="does_not_exist")


class RuleViewSet(viewsets.ModelViewSet[Rule]):
    serializer_class = RuleSerializer
    permission_classes = [IsAuthenticated, IsAdvertiserOrStaff, AccountStanding]
    account_act = Act.MANAGE_OFFERS
    filterset_fields = ["offer", "scope", "action", "is_active"]
    ordering_fields = ["id", "created_at", "name"]

    def get_queryset(self) -> Any:
        return selectors.rules_visible(actor=actor_for(self.request.user))

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        _checked_offer(request, serializer.validated_data)
        rule = services.rule_create(
            actor=actor_for(request.user), created_by=request.user, **serializer.validated_data
        )
        return Response(self.get_serializer(rule).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        rule = self.get_object()
        serializer = self.get_serializer(rule, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        _checked_offer(request, serializer.validated_data)
        rule = services.rule_update(rule=rule, actor=actor_for(request.user), **serializer.validated_data)
        return Response(self.get_serializer(rule).data)

    @extend_schema(summary="Check the rule now", request=None, responses={200: FiringSerializer, 204: None})
    @action(detail=True, methods=["post"])
    def check(self, request: Request, pk: str | None = None) -> Response:
        """Check now, as the scheduled check would: 200 with the firing, or 204 when it did not fire."""
        firing = services.rule_check(rule_id=self.get_object().pk)
        if firing is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(FiringSerializer(firing, context=self.get_serializer_context()).data)


class FiringViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Firing]):
    """Every firing of the rules the caller sees, newest first, with the numbers seen."""

    serializer_class = FiringSerializer
    permission_classes = [IsAuthenticated, IsAdvertiserOrStaff, AccountStanding]
    account_act = Act.MANAGE_OFFERS
    filterset_fields = ["rule", "action", "outcome"]
    ordering_fields = ["id", "created_at"]

    def get_queryset(self) -> Any:
        return selectors.firings_visible(actor=actor_for(self.request.user))

    @extend_schema(summary="Undo a firing", request=None, responses=FiringSerializer)
    @action(detail=True, methods=["post"])
    def undo(self, request: Request, pk: str | None = None) -> Response:
        """Restore what the firing changed (409 already_undone or not_undoable otherwise)."""
        firing = services.firing_undo(firing=self.get_object(), by=request.user)
        return Response(self.get_serializer(firing).data)
