"""Teams and staff roles in the API: thin views over affiliates.team and affiliates.staff.

- ``/team/members/``, ``/team/invites/``: the caller's advertiser or publisher team (staff
  name one with ``?advertiser=`` or ``?publisher=``; an account they cannot see is 404);
  ``/team/invites/accept/`` spends an invitation (no credentials: the token is the proof).
- ``/staff-roles/``, ``/account-assignments/``: staff roles and account managers' accounts,
  read by staff and changed by network admins.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from affiliates import staff, team
from affiliates.api.base import IsStaff
from affiliates.core.db import db_id
from affiliates.models import Advertiser, Publisher
from affiliates.roles import Act, actor_for
from affiliates.team_models import AccountAssignment, StaffRole, TeamInvite, TeamRole

ACCOUNT_PARAMS = [
    OpenApiParameter("advertiser", int, description="Staff: the advertiser whose team this is."),
    OpenApiParameter("publisher", int, description="Staff: the publisher whose team this is."),
]


class MemberSerializer(serializers.Serializer[Any]):
    user_id = serializers.IntegerField(help_text="The member's user id.")
    username = serializers.CharField(help_text="The member's username.")
    email = serializers.EmailField(help_text="The member's e-mail address.")
    role = serializers.ChoiceField(choices=TeamRole.choices, help_text="What the member may do.")
    is_me = serializers.BooleanField(help_text="Whether this member is the caller.")


class RoleInSerializer(serializers.Serializer[Any]):
    role = serializers.ChoiceField(choices=TeamRole.choices, help_text="The member's new role.")


class InviteSerializer(serializers.ModelSerializer[TeamInvite]):
    class Meta:
        model = TeamInvite
        fields = ["id", "email", "role", "created_at", "expires_at"]
        read_only_fields = ["id", "created_at", "expires_at"]
        extra_kwargs = {
            "id": {"help_text": "Unique identifier."},
            "created_at": {"help_text": "When it was sent (UTC)."},
        }


class AcceptSerializer(serializers.Serializer[Any]):
    token = serializers.CharField(max_length=100, help_text="The token from the invitation's link.")
    password = serializers.CharField(max_length=128, write_only=True, help_text="The new user's password.")


class AcceptedSerializer(serializers.Serializer[Any]):
    username = serializers.CharField(help_text="Sign in with this (the invited e-mail address).")


def _account(request: Request) -> team.Account:
    return team.team_account(
        actor=actor_for(request.user),
        advertiser_id=db_id(request.query_params.get("advertiser")),
        publisher_id=db_id(request.query_params.get("publisher")),
    )


@extend_schema(tags=["team"], parameters=ACCOUNT_PARAMS)
class TeamMembersView(APIView):
    @extend_schema(responses={200: MemberSerializer(many=True)})
    def get(self, request: Request) -> Response:
        rows = team.team_members(account=_account(request), actor=actor_for(request.user))
        return Response(MemberSerializer(rows, many=True).data)


@extend_schema(tags=["team"], parameters=ACCOUNT_PARAMS)
class TeamMemberView(APIView):
    role_act = Act.MANAGE_TEAM

    @extend_schema(request=RoleInSerializer, responses={200: MemberSerializer})
    def patch(self, request: Request, user_id: int) -> Response:
        data = RoleInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        actor = actor_for(request.user)
        account = _account(request)
        team.team_member_role_set(
            actor=actor, account=account, user_id=user_id, role=data.validated_data["role"]
        )
        row = next(r for r in team.team_members(account=account, actor=actor) if r.user_id == user_id)
        return Response(MemberSerializer(row).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, user_id: int) -> Response:
        team.team_member_remove(actor=actor_for(request.user), account=_account(request), user_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["team"], parameters=ACCOUNT_PARAMS)
class TeamInvitesView(APIView):
    role_act = Act.MANAGE_TEAM

    @extend_schema(responses={200: InviteSerializer(many=True)})
    def get(self, request: Request) -> Response:
        return Response(InviteSerializer(team.team_invites(account=_account(request)), many=True).data)

    @extend_schema(request=InviteSerializer, responses={201: InviteSerializer})
    def post(self, request: Request) -> Response:
        data = InviteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invite, _token = team.team_invite(
            actor=actor_for(request.user), account=_account(request), by=request.user, **data.validated_data
        )
        return Response(InviteSerializer(invite).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["team"], parameters=ACCOUNT_PARAMS)
class TeamInviteView(APIView):
    role_act = Act.MANAGE_TEAM

    @extend_schema(responses={204: None})
    def delete(self, request: Request, invite_id: int) -> Response:
        team.team_invite_revoke(actor=actor_for(request.user), account=_account(request), invite_id=invite_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["team"], auth=[])
class TeamInviteAcceptView(APIView):
    """Spend an invitation: the new user and its membership. 404 ``invite_invalid`` for an
    unknown, spent, withdrawn or expired token."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(request=AcceptSerializer, responses={201: AcceptedSerializer})
    def post(self, request: Request) -> Response:
        data = AcceptSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = team.team_invite_accept(**data.validated_data)
        return Response({"username": user.get_username()}, status=status.HTTP_201_CREATED)


# --- staff -----------------------------------------------------------------------------------


class StaffRoleSerializer(serializers.Serializer[Any]):
    user_id = serializers.IntegerField(source="user.pk", help_text="The staff user's id.")
    username = serializers.CharField(source="user.username", help_text="The staff user's username.")
    email = serializers.EmailField(source="user.email", help_text="The staff user's e-mail address.")
    role = serializers.ChoiceField(choices=StaffRole.choices, help_text="What the staff user may do.")
    advertisers = serializers.SerializerMethodField(help_text="Account managers: the advertisers' ids.")
    publishers = serializers.SerializerMethodField(help_text="Account managers: the publishers' ids.")

    def get_advertisers(self, row: staff.StaffRow) -> list[int]:
        return [a.pk for a in row.advertisers]

    def get_publishers(self, row: staff.StaffRow) -> list[int]:
        return [p.pk for p in row.publishers]


class StaffRoleInSerializer(serializers.Serializer[Any]):
    role = serializers.ChoiceField(choices=StaffRole.choices, help_text="The staff user's new role.")


class AssignmentSerializer(serializers.ModelSerializer[AccountAssignment]):
    advertiser = serializers.PrimaryKeyRelatedField(
        queryset=Advertiser.objects.all(),
        required=False,
        allow_null=True,
        help_text="The advertiser assigned.",
    )
    publisher = serializers.PrimaryKeyRelatedField(
        queryset=Publisher.objects.all(), required=False, allow_null=True, help_text="The publisher assigned."
    )
    manager = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.filter(is_staff=True), help_text="The account manager's user id."
    )

    class Meta:
        model = AccountAssignment
        fields = ["id", "manager", "advertiser", "publisher", "created_at"]
        read_only_fields = ["id", "created_at"]
        # account_assign keeps one row per manager x account (a repeat returns it): DRF's
        # validators for the conditional unique constraints would demand both accounts.
        validators: list[Any] = []
        extra_kwargs = {
            "id": {"help_text": "Unique identifier."},
            "created_at": {"help_text": "When it was assigned (UTC)."},
        }


def _users() -> Any:
    return get_user_model().objects.filter(is_staff=True).order_by("username", "id")


@extend_schema(tags=["staff"])
class StaffRolesView(APIView):
    permission_classes = [IsStaff]

    @extend_schema(responses={200: StaffRoleSerializer(many=True)})
    def get(self, request: Request) -> Response:
        return Response(StaffRoleSerializer(staff.staff_rows(users=_users()), many=True).data)


@extend_schema(tags=["staff"])
class StaffRoleView(APIView):
    permission_classes = [IsStaff]
    role_act = Act.MANAGE_NETWORK

    @extend_schema(request=StaffRoleInSerializer, responses={200: StaffRoleSerializer})
    def put(self, request: Request, user_id: int) -> Response:
        data = StaffRoleInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = staff.staff_user(user_id=user_id)
        staff.staff_role_set(actor=actor_for(request.user), user=user, role=data.validated_data["role"])
        return Response(StaffRoleSerializer(staff.staff_rows(users=[user])[0]).data)


@extend_schema(tags=["staff"])
class AccountAssignmentsView(APIView):
    permission_classes = [IsStaff]
    role_act = Act.MANAGE_NETWORK

    @extend_schema(responses={200: AssignmentSerializer(many=True)})
    def get(self, request: Request) -> Response:
        actor = actor_for(request.user)
        # An account manager sees their own; other staff every assignment.
        rows = staff.assignments(manager=request.user if actor.is_account_manager else None)
        return Response(AssignmentSerializer(rows, many=True).data)

    @extend_schema(request=AssignmentSerializer, responses={201: AssignmentSerializer})
    def post(self, request: Request) -> Response:
        data = AssignmentSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        row = staff.account_assign(
            actor=actor_for(request.user),
            manager=staff.staff_user(user_id=v["manager"].pk),
            advertiser=v.get("advertiser"),
            publisher=v.get("publisher"),
        )
        return Response(AssignmentSerializer(row).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["staff"])
class AccountAssignmentView(APIView):
    permission_classes = [IsStaff]
    role_act = Act.MANAGE_NETWORK

    @extend_schema(responses={204: None})
    def delete(self, request: Request, assignment_id: int) -> Response:
        staff.account_unassign(actor=actor_for(request.user), assignment_id=assignment_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
