"""Webhooks API: ``/api/v1/webhooks/`` (subscriptions) and ``/api/v1/webhook-deliveries/`` (the log).

Staff manage the network's subscriptions (and may act for any advertiser or publisher); an
advertiser or a publisher manages its own, and another tenant's simply do not exist (404).
The secret is in the answer to ``POST`` and ``POST {id}/rotate-secret/`` only.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from affiliates.api.base import TenantScopedMixin
from affiliates.models import Advertiser, Publisher
from affiliates.roles import Act, account_check, actor_for
from payouts.callbacks import services, webhooks
from payouts.callbacks.api.serializers import CallbackAttemptSerializer
from payouts.models.callbacks import CallbackAttempt, CallbackDelivery
from payouts.models.webhooks import WebhookEvent, WebhookSubscription


class WebhookStanding(BasePermission):
    """Writes need an account in good standing (roles.account_check), for either tenant role."""

    def has_permission(self, request: Any, view: Any) -> bool:
        actor = actor_for(request.user)
        if not (actor.is_staff or actor.is_advertiser or actor.is_publisher):
            return False
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            account_check(actor, Act.MANAGE_OFFERS)  # advertisers
            account_check(actor, Act.MANAGE_POSTBACKS)  # publishers
        return True


class WebhookSubscriptionSerializer(serializers.ModelSerializer[WebhookSubscription]):
    events = serializers.MultipleChoiceField(
        choices=WebhookEvent.choices, help_text="The events it gets (what each owner may get is checked)."
    )

    class Meta:
        model = WebhookSubscription
        fields = [
            "id",
            "owner",
            "advertiser",
            "publisher",
            "name",
            "url",
            "events",
            "is_active",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]
        extra_kwargs = {
            "id": {"help_text": "Subscription id."},
            "created_at": {"help_text": "When it was created."},
            "owner": {
                "required": False,
                "help_text": "network, advertiser or publisher; staff only, else yours.",
            },
            "advertiser": {"required": False},
            "publisher": {"required": False},
        }

    def to_representation(self, instance: WebhookSubscription) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["events"] = list(instance.events)
        return data


class WebhookSecretSerializer(WebhookSubscriptionSerializer):
    secret = serializers.CharField(
        read_only=True, help_text="Signs every delivery (see the webhooks section). Shown this once."
    )

    class Meta(WebhookSubscriptionSerializer.Meta):
        fields = [*WebhookSubscriptionSerializer.Meta.fields, "secret"]
        read_only_fields = [*WebhookSubscriptionSerializer.Meta.read_only_fields, "secret"]


class WebhookDeliverySerializer(serializers.ModelSerializer[CallbackDelivery]):
    class Meta:
        model = CallbackDelivery
        fields = [
            "id",
            "subscription",
            "event",
            "url",
            "body",
            "status",
            "attempts_count",
            "next_attempt_at",
            "give_up_at",
            "created_at",
            "delivered_at",
            "given_up_at",
            "last_status_code",
            "last_error",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "id": {"help_text": "Delivery id."},
            "event": {"help_text": "What happened, e.g. commission.approved, click.recorded, test."},
            "body": {"help_text": "The JSON sent, exactly."},
        }


def _as_api_error(exc: DjangoValidationError) -> ValidationError:
    return ValidationError(
        exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
    )


class WebhookSubscriptionViewSet(TenantScopedMixin, viewsets.ModelViewSet[WebhookSubscription]):
    """Subscribe URLs to events; the answer to a create carries the signing secret, once."""

    queryset = WebhookSubscription.objects.all()
    serializer_class = WebhookSubscriptionSerializer
    advertiser_path = "advertiser_id"
    publisher_path = "publisher_id"
    permission_classes = [IsAuthenticated, WebhookStanding]
    filterset_fields = ["owner", "is_active", "advertiser", "publisher"]
    ordering_fields = ["id", "created_at"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def _owner(self, data: dict[str, Any]) -> dict[str, Any]:
        actor = self.actor
        if actor.is_advertiser:
            return {"owner": "advertiser", "advertiser": Advertiser.objects.get(pk=actor.advertiser_id)}
        if actor.is_publisher:
            return {"owner": "publisher", "publisher": Publisher.objects.get(pk=actor.publisher_id)}
        advertiser, publisher = data.get("advertiser"), data.get("publisher")
        owner = "advertiser" if advertiser else "publisher" if publisher else "network"
        return {"owner": owner, "advertiser": advertiser, "publisher": publisher}

    @extend_schema(responses={201: WebhookSecretSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = self.get_serializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = dict(incoming.validated_data)
        owner = self._owner(data)
        try:
            sub = webhooks.webhook_subscription_create(
                **owner,
                url=data["url"],
                events=sorted(data["events"]),
                name=data.get("name", ""),
                is_active=data.get("is_active", True),
                by=request.user,
            )
        except DjangoValidationError as exc:
            raise _as_api_error(exc) from exc
        return Response(WebhookSecretSerializer(sub).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        sub = self.get_object()
        incoming = self.get_serializer(sub, data=request.data, partial=True)
        incoming.is_valid(raise_exception=True)
        changes = {k: v for k, v in incoming.validated_data.items() if k in webhooks.EDITABLE}
        if "events" in changes:
            changes["events"] = sorted(changes["events"])
        try:
            sub = webhooks.webhook_subscription_update(subscription=sub, **changes)
        except DjangoValidationError as exc:
            raise _as_api_error(exc) from exc
        return Response(self.get_serializer(sub).data)

    @extend_schema(request=None, responses=WebhookSecretSerializer)
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, pk: str | None = None) -> Response:
        """A new secret, shown this once; the old one keeps signing beside it for 24 hours."""
        sub = webhooks.webhook_secret_rotate(subscription=self.get_object())
        return Response(WebhookSecretSerializer(sub).data)

    @extend_schema(request=None, responses=CallbackAttemptSerializer)
    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk: str | None = None) -> Response:
        """Send a signed test event now, once. Returns the attempt."""
        attempt = webhooks.webhook_test(subscription=self.get_object())
        return Response(CallbackAttemptSerializer(attempt).data)


class WebhookDeliveryViewSet(
    TenantScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[CallbackDelivery],
):
    """The webhook delivery log: every event owed, its attempts, and re-send."""

    queryset = CallbackDelivery.objects.filter(subscription__isnull=False)
    serializer_class = WebhookDeliverySerializer
    advertiser_path = "subscription__advertiser_id"
    publisher_path = "subscription__publisher_id"
    permission_classes = [IsAuthenticated, WebhookStanding]
    filterset_fields = ["status", "event", "subscription"]
    ordering_fields = ["id", "created_at", "next_attempt_at"]

    @extend_schema(responses=CallbackAttemptSerializer(many=True))
    @action(detail=True, methods=["get"])
    def attempts(self, request: Request, pk: str | None = None) -> Response:
        rows: QuerySet[CallbackAttempt] = self.get_object().attempts.all()
        page = self.paginate_queryset(rows)  # type: ignore[arg-type]
        if page is not None:
            return self.get_paginated_response(CallbackAttemptSerializer(page, many=True).data)
        return Response(CallbackAttemptSerializer(rows, many=True).data)

    @extend_schema(request=None, responses=CallbackAttemptSerializer)
    @action(detail=True, methods=["post"])
    def resend(self, request: Request, pk: str | None = None) -> Response:
        """Send this event again now, freshly signed (the address is vetted again)."""
        attempt = services.delivery_resend(delivery=self.get_object())
        return Response(CallbackAttemptSerializer(attempt).data)
