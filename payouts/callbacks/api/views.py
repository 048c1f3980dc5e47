"""Postbacks API: a publisher manages its own postback URLs and reads its own delivery log.

Staff see and manage every publisher's. Advertisers have no business here (403); another
publisher's postbacks and deliveries simply do not exist (404).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.fields import get_error_detail
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from affiliates.api.base import AccountStanding, TenantScopedMixin
from affiliates.models import Offer, Publisher
from affiliates.roles import Act, Actor, actor_for, offers_visible_to_publisher_q
from payouts.callbacks import services
from payouts.callbacks.api import serializers as s
from payouts.models.callbacks import CallbackAttempt, CallbackDelivery, CallbackEndpoint


class IsPublisherOrStaff(BasePermission):
    message = "Only publishers and network staff manage publisher postbacks."

    def has_permission(self, request: Request, view: Any) -> bool:
        actor = actor_for(request.user)
        return actor.is_staff or actor.is_publisher


def _as_api_error(exc: DjangoValidationError) -> ValidationError:
    """Keep the model's error codes (unknown_macro, blocked_address...) on the way out."""
    return ValidationError(get_error_detail(exc))


def _not_found(field: str) -> ValidationError:
    return ValidationError({field: ["Invalid pk - object does not exist."]}, code="does_not_exist")


def _check_visible(actor: Actor, data: dict[str, Any]) -> None:
    """A publisher may only narrow a postback to offers it can see (others do not exist to it)."""
    if actor.is_staff:
        return
    visible = Offer.objects.filter(offers_visible_to_publisher_q(actor.publisher_id or 0))
    for field, offer_id in (("offer", data.get("offer")), ("goal", data.get("goal"))):
        if offer_id is None:
            continue
        pk = offer_id.pk if field == "offer" else offer_id.offer_id
        if not visible.filter(pk=pk).exists():
            raise _not_found(field)


class CallbackEndpointViewSet(TenantScopedMixin, viewsets.ModelViewSet[CallbackEndpoint]):
    queryset = CallbackEndpoint.objects.select_related("publisher", "offer", "goal")
    serializer_class = s.CallbackEndpointSerializer
    publisher_path = "publisher_id"
    filterset_fields = ["publisher", "offer", "goal", "is_active", "method"]
    ordering_fields = ["id", "created_at"]
    permission_classes = [IsAuthenticated, IsPublisherOrStaff, AccountStanding]
    account_act = Act.MANAGE_POSTBACKS

    def _publisher_for_create(self, data: dict[str, Any]) -> Publisher:
        actor = self.actor
        if actor.is_publisher:
            return Publisher.objects.get(pk=actor.publisher_id)
        if data.get("publisher") is None:
            raise ValidationError({"publisher": ["This field is required."]}, code="required")
        publisher: Publisher = data["publisher"]
        return publisher

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        publisher = self._publisher_for_create(data)
        data.pop("publisher", None)
        _check_visible(self.actor, data)
        try:
            endpoint = services.callback_endpoint_create(publisher=publisher, **data)
        except DjangoValidationError as exc:
            raise _as_api_error(exc) from exc
        return Response(self.get_serializer(endpoint).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        endpoint = self.get_object()
        serializer = self.get_serializer(endpoint, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("publisher", None)  # a postback never moves between publishers
        _check_visible(self.actor, data)
        if "offer" in data and "goal" not in data and data["offer"] != endpoint.offer:
            data["goal"] = None  # a new offer scope drops the old goal narrowing
        if data.get("goal") is not None and "offer" not in data:
            data["offer"] = data["goal"].offer  # a new goal brings its offer
        try:
            endpoint = services.callback_endpoint_update(endpoint=endpoint, **data)
        except DjangoValidationError as exc:
            raise _as_api_error(exc) from exc
        return Response(self.get_serializer(endpoint).data)

    @extend_schema(request=None, responses=s.CallbackAttemptSerializer)
    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk: str | None = None) -> Response:
        """Render the URL with sample values and deliver it once, now. Returns the attempt."""
        attempt = services.endpoint_test_fire(endpoint=self.get_object())
        return Response(s.CallbackAttemptSerializer(attempt).data)


class CallbackDeliveryViewSet(
    TenantScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[CallbackDelivery],
):
    """The delivery log. Each delivery lists its attempts and can be re-sent."""

    queryset = CallbackDelivery.objects.filter(subscription__isnull=True)  # webhooks: their own log
    serializer_class = s.CallbackDeliverySerializer
    publisher_path = "publisher_id"
    filterset_fields = ["status", "event", "offer", "endpoint", "publisher", "commission"]
    ordering_fields = ["id", "created_at", "next_attempt_at"]
    permission_classes = [IsAuthenticated, IsPublisherOrStaff, AccountStanding]
    account_act = Act.MANAGE_POSTBACKS

    @extend_schema(responses=s.CallbackAttemptSerializer(many=True))
    @action(detail=True, methods=["get"])
    def attempts(self, request: Request, pk: str | None = None) -> Response:
        rows: QuerySet[CallbackAttempt] = self.get_object().attempts.all()
        page = self.paginate_queryset(rows)  # type: ignore[arg-type]
        if page is not None:
            return self.get_paginated_response(s.CallbackAttemptSerializer(page, many=True).data)
        return Response(s.CallbackAttemptSerializer(rows, many=True).data)

    @extend_schema(request=None, responses=s.CallbackAttemptSerializer)
    @action(detail=True, methods=["post"])
    def resend(self, request: Request, pk: str | None = None) -> Response:
        """Try this delivery again now (the address is vetted again). Returns the attempt."""
        attempt = services.delivery_resend(delivery=self.get_object())
        return Response(s.CallbackAttemptSerializer(attempt).data)
