"""The Django admin's part of teams and staff roles: member inlines on advertisers and
publishers, staff roles and assignments, and the admin site's door, which only staff admins
pass (affiliates.roles decides who that is; the other staff roles work in the portal, where
every page is scoped to them)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from affiliates.roles import is_network_admin
from affiliates.team_models import (
    AccountAssignment,
    AdvertiserMember,
    PublisherMember,
    StaffMember,
    TeamInvite,
)


class AdvertiserMemberInline(admin.TabularInline[AdvertiserMember, Any]):
    model = AdvertiserMember
    extra = 0
    autocomplete_fields = ["user"]


class PublisherMemberInline(admin.TabularInline[PublisherMember, Any]):
    model = PublisherMember
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(StaffMember)
class StaffMemberAdmin(admin.ModelAdmin[StaffMember]):
    list_display = ["user", "role", "updated_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__email"]
    autocomplete_fields = ["user"]


@admin.register(AccountAssignment)
class AccountAssignmentAdmin(admin.ModelAdmin[AccountAssignment]):
    list_display = ["manager", "advertiser", "publisher", "created_at"]
    search_fields = ["manager__username", "advertiser__name", "publisher__name"]
    autocomplete_fields = ["manager", "advertiser", "publisher"]


@admin.register(TeamInvite)
class TeamInviteAdmin(admin.ModelAdmin[TeamInvite]):
    list_display = ["email", "role", "advertiser", "publisher", "created_at", "accepted_at", "revoked_at"]
    search_fields = ["email"]
    readonly_fields = ["token_digest"]


def admin_site_allowed(request: HttpRequest) -> bool:
    """Only staff admins use the Django admin (it cannot scope an account manager's view); they
    hold its model permissions (accounts.admin_permissions)."""
    user = request.user
    return bool(user.is_active and user.is_staff) and is_network_admin(user)


# The default site's door: the admin is the superusers' and staff admins' tool.
admin.site.has_permission = admin_site_allowed  # type: ignore[method-assign]
