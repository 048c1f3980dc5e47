"""``/api/v1/notification-preferences/`` and ``/api/v1/notifications/``: the caller's own.

Preferences: ``GET`` lists every kind the caller's role can get, with each channel on or off;
``PATCH`` takes a list of ``{"kind", "in_app"?, "email"?}`` and answers with the new list. A kind
the role cannot get is ``400 {"code": "invalid", "fields": {"kind": ...}}``.
Notifications: ``GET`` the latest 100 (the bell's list); ``POST read/`` marks them read.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from affiliates.notifications import Channel, Kind, Notification, notifications_mark_read
from affiliates.notify import KINDS_FOR_ROLE, notification_preferences, notification_preferences_update
from affiliates.roles import actor_for


class PreferenceSerializer(serializers.Serializer[dict[str, Any]]):
    kind = serializers.ChoiceField(choices=Kind.choices, help_text="What happened.")
    label = serializers.CharField(read_only=True, help_text="The kind, in words.")  # type: ignore[assignment]
    in_app = serializers.BooleanField(required=False, help_text="Shown under the bell.")
    email = serializers.BooleanField(required=False, help_text="Sent by e-mail.")


class NotificationSerializer(serializers.ModelSerializer[Notification]):
    # Blank for notices without a kind of their own (A/B and holdout results post them directly).
    kind = serializers.ChoiceField(
        choices=Kind.choices, allow_blank=True, read_only=True, help_text="What happened; may be blank."
    )

    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "link", "created_at", "read_at"]
        read_only_fields = fields
        extra_kwargs = {
            "id": {"help_text": "Notification id."},
            "created_at": {"help_text": "When it was posted."},
        }


class NotificationPreferencesView(APIView):
    personal_writes = "*"  # one's own preferences: any role (api.base.StaffActs)

    @extend_schema(responses=PreferenceSerializer(many=True), summary="Your notification preferences")
    def get(self, request: Request) -> Response:
        rows = notification_preferences(user=request.user, role=actor_for(request.user).role)
        return Response(PreferenceSerializer(rows, many=True).data)  # type: ignore[arg-type]

    @extend_schema(
        request=PreferenceSerializer(many=True),
        responses=PreferenceSerializer(many=True),
        summary="Turn notification kinds on or off, per channel",
    )
    def patch(self, request: Request) -> Response:
        role = actor_for(request.user).role
        data = PreferenceSerializer(data=request.data, many=True)
        data.is_valid(raise_exception=True)
        allowed = KINDS_FOR_ROLE.get(role, ())
        choices: list[tuple[str, str, bool]] = []
        for row in data.validated_data:
            if row["kind"] not in allowed:
                raise serializers.ValidationError({"kind": [f"Your role does not get {row['kind']!r}."]})
            choices.extend((row["kind"], ch, row[ch]) for ch in Channel.values if ch in row)
        notification_preferences_update(user=request.user, choices=choices)
        return self.get(request)


class NotificationsView(APIView):
    @extend_schema(responses=NotificationSerializer(many=True), summary="Your latest notifications")
    def get(self, request: Request) -> Response:
        rows = Notification.objects.filter(recipient_id=request.user.pk)[:100]
        return Response(NotificationSerializer(rows, many=True).data)


class NotificationsReadView(APIView):
    personal_writes = "*"  # one's own bell: any role (api.base.StaffActs)

    @extend_schema(
        request=None,
        responses=inline_serializer(
            "NotificationsMarked", {"marked": serializers.IntegerField(help_text="How many were unread.")}
        ),
        summary="Mark all your notifications read",
    )
    def post(self, request: Request) -> Response:
        return Response({"marked": notifications_mark_read(user=request.user)})
