"""``/api/v1/api-keys/``: the caller's own named API keys (affiliates.accounts.keys).

``GET`` lists them (never the key), ``POST`` creates one and returns the key this once,
``DELETE /{id}/`` revokes one. Another user's key is not found (404), staff included: a key is
its owner's to manage.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from affiliates.accounts.keys import apikey_create, apikey_revoke, apikey_status, apikeys_of
from affiliates.api.schema import ErrorSerializer
from affiliates.credentials import ApiKey
from affiliates.roles import Act

# The one error shape the exception handler sends (``fields`` only on a validation error: an
# expiry in the past is a 400 without it), not a copy of it that could drift.
ERROR = ErrorSerializer
UNAUTHENTICATED = OpenApiResponse(
    ERROR, description="No valid credentials, or the key is revoked or expired."
)
FORBIDDEN = OpenApiResponse(ERROR, description="key_read_only: a read-only key cannot write.")
LOCKED = OpenApiResponse(ERROR, description="locked_out: too many bad credentials from this address.")


class ApiKeySerializer(serializers.ModelSerializer[ApiKey]):
    status = serializers.SerializerMethodField(help_text="active, expired or revoked.")

    class Meta:
        model = ApiKey
        fields = [
            "id",
            "name",
            "prefix",
            "read_only",
            "created_at",
            "expires_at",
            "last_used_at",
            "revoked_at",
            "status",
        ]
        read_only_fields = fields
        extra_kwargs = {"id": {"help_text": "Unique identifier."}}

    def get_status(self, row: ApiKey) -> str:
        return apikey_status(row)


class ApiKeyCreateSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=100, help_text="What the key is for.")
    # The metaclass takes declared fields off the class, so this does not shadow Field.read_only.
    read_only = serializers.BooleanField(  # type: ignore[assignment]
        default=False, help_text="Safe methods only (GET, HEAD, OPTIONS)."
    )
    expires_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="When the key stops working; null: never."
    )


class ApiKeyCreatedSerializer(ApiKeySerializer):
    key = serializers.CharField(help_text="The whole key. Shown in this response only; store it now.")

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]
        read_only_fields = fields


@extend_schema(tags=["api-keys"])
class ApiKeyViewSet(mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet[ApiKey]):
    role_act = Act.MANAGE_KEYS
    serializer_class = ApiKeySerializer
    filter_backends: list[Any] = []

    def get_queryset(self) -> Any:
        return apikeys_of(user=self.request.user)

    @extend_schema(responses={200: ApiKeySerializer(many=True), 401: UNAUTHENTICATED, 429: LOCKED})
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=ApiKeyCreateSerializer,
        responses={
            201: ApiKeyCreatedSerializer,
            400: OpenApiResponse(
                ERROR,
                description="Invalid input (`fields` says which), or an expiry in the past (`expiry_past`).",
            ),
            401: UNAUTHENTICATED,
            403: FORBIDDEN,
            429: LOCKED,
        },
    )
    def create(self, request: Request) -> Response:
        data = ApiKeyCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        new = apikey_create(user=request.user, **data.validated_data)
        # ApiKeyCreatedSerializer documents this shape; the key is not on the row (never stored).
        out = ApiKeySerializer(new.row).data
        return Response({**out, "key": new.key}, status=status.HTTP_201_CREATED)

    @extend_schema(
        responses={
            204: None,
            401: UNAUTHENTICATED,
            403: FORBIDDEN,
            404: OpenApiResponse(ERROR, description="Not one of your keys."),
            429: LOCKED,
        }
    )
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        row = self.get_object()
        apikey_revoke(user=request.user, key_id=row.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)
