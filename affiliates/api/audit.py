"""``GET /api/v1/audit-log/``: the audit log, scoped to the caller (affiliates/audit.py).

Staff read every entry; an advertiser or a publisher the entries about its own objects, with
only the fields its other API views show. Filters are validated: a bad one is
``400 {"code": "invalid", "fields": {...}}``; an object type the caller may not read answers
with no rows, exactly as one that does not exist.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from affiliates.audit import ACTIONS, AuditFilters, audit_entries, entry_rows
from affiliates.models import AuditEntry
from affiliates.roles import actor_for

_error = inline_serializer(
    "AuditLogError",
    {
        "code": serializers.CharField(help_text="Machine-readable reason, e.g. invalid, not_authenticated."),
        "message": serializers.CharField(help_text="What went wrong, for people."),
        "fields": serializers.DictField(
            required=False, help_text="Per filter: what is wrong with it (400 only)."
        ),
    },
)


class AuditQuerySerializer(serializers.Serializer[Any]):
    object_type = serializers.CharField(
        required=False, max_length=64, help_text="offer, goal, cap, commission, payout, ... (see entries)."
    )
    object_id = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    actor = serializers.CharField(
        required=False,
        max_length=150,
        help_text="Staff only: a user id, part of an e-mail or username, or `system`. Ignored for others.",
    )
    action = serializers.ChoiceField(choices=sorted(ACTIONS), required=False)
    since = serializers.DateField(required=False, help_text="From this UTC day, inclusive.")
    until = serializers.DateField(required=False, help_text="To this UTC day, inclusive.")
    q = serializers.CharField(
        required=False,
        max_length=200,
        help_text="Free text: the object's name (staff: also the changed values and the source).",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "since" in attrs and "until" in attrs and attrs["since"] > attrs["until"]:
            raise serializers.ValidationError({"until": ["Must be on or after since."]}, code="bad_range")
        return attrs

    def to_filters(self) -> AuditFilters:
        d = self.validated_data
        since = datetime.combine(d["since"], time.min, tzinfo=UTC) if "since" in d else None
        until = (
            datetime.combine(d["until"], time.min, tzinfo=UTC) + timedelta(days=1) if "until" in d else None
        )
        return AuditFilters(
            object_type=d.get("object_type", ""),
            object_id=d.get("object_id"),
            actor=d.get("actor", ""),
            action=d.get("action", ""),
            since=since,
            until=until,
            text=d.get("q", ""),
        )


class FieldChangeSerializer(serializers.Serializer[Any]):
    field = serializers.CharField(help_text="The model field that changed.")
    before = serializers.CharField(help_text="Its value before; empty on create or when it was empty.")
    after = serializers.CharField(help_text="Its value after; empty on delete or when it became empty.")


class AuditEntrySerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(help_text="Entry id.")
    timestamp = serializers.DateTimeField(help_text="When the change was made (UTC).")
    object_type = serializers.CharField(help_text="What changed: offer, goal, commission, payout, ...")
    object_id = serializers.IntegerField(allow_null=True, help_text="Its id.")
    object_repr = serializers.CharField(help_text="Its name when it changed.")
    action = serializers.ChoiceField(choices=sorted(ACTIONS), help_text="create, update or delete.")
    actor = serializers.CharField(
        help_text=(
            "Who: an e-mail (staff see all; others their own team's), network, another account, or "
            "system (<job>) for changes the system made."
        )
    )
    remote_addr = serializers.CharField(
        help_text="The client address of the change; empty for system changes and for other teams'."
    )
    source = serializers.CharField(  # type: ignore[assignment]  # named like Field.source
        help_text="web, api, or the job: hold job, reconcile, ..."
    )
    changes = FieldChangeSerializer(many=True, help_text="Each field the caller may read, before -> after.")


class HasRole(BasePermission):
    """Staff, an advertiser or a publisher: a user of none has no audit log (403)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        actor = actor_for(request.user)
        return actor.is_staff or actor.is_advertiser or actor.is_publisher


class AuditLogView(GenericAPIView[Any]):
    permission_classes = [IsAuthenticated, HasRole]
    serializer_class = AuditEntrySerializer
    queryset = AuditEntry.objects.none()  # the schema's model; rows come from audit_entries
    filter_backends: list[Any] = []  # AuditQuerySerializer is the one set of filters

    @extend_schema(
        parameters=[AuditQuerySerializer],
        responses={
            200: AuditEntrySerializer(many=True),
            400: OpenApiResponse(_error, description="A filter is invalid (see fields)."),
            401: OpenApiResponse(_error, description="No or bad credentials."),
            403: OpenApiResponse(_error, description="The user is no staff, advertiser or publisher."),
            404: OpenApiResponse(_error, description="No such page (page beyond the last, or not a number)."),
            429: OpenApiResponse(_error, description="Locked out after too many bad tokens."),
        },
    )
    def get(self, request: Request) -> Response:
        query = AuditQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        actor = actor_for(request.user)
        page = self.paginate_queryset(audit_entries(actor=actor, filters=query.to_filters()))
        rows = entry_rows(page if page is not None else [], actor)
        return self.get_paginated_response(AuditEntrySerializer(rows, many=True).data)
