from django.urls import path, register_converter

from affiliates.api import api_keys, audit, network_terms, notifications, team, views
from affiliates.api.routers import DefaultRouter
from affiliates.core.db import ID_DIGITS


class DbIdConverter:
    """An id in a path, as the database can hold it: at most ID_DIGITS digits (any 18 fit a
    bigint). Django's ``int`` takes any number of digits, and make fuzz's
    DELETE /api/v1/team/members/<35 digits>/ reached the query and answered 500; a longer number
    now matches no route, a 404 as for any id that does not exist."""

    regex = f"[0-9]{{1,{ID_DIGITS}}}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(DbIdConverter, "dbid")

router = DefaultRouter()
router.register("advertisers", views.AdvertiserViewSet)
router.register("publishers", views.PublisherViewSet)
router.register("offers", views.OfferViewSet)
router.register("goals", views.GoalViewSet)
router.register("custom-payouts", views.CustomPayoutViewSet)
router.register("caps", views.CapViewSet)
router.register("coupons", views.CouponViewSet)
router.register("accesses", views.AccessViewSet)
router.register("links", views.LinkViewSet, basename="link")
router.register("api-keys", api_keys.ApiKeyViewSet, basename="api-key")

urlpatterns = [
    path("audit-log/", audit.AuditLogView.as_view(), name="audit-log"),
    path(
        "notification-preferences/",
        notifications.NotificationPreferencesView.as_view(),
        name="notification-preferences",
    ),
    path("notifications/", notifications.NotificationsView.as_view(), name="notifications"),
    path("notifications/read/", notifications.NotificationsReadView.as_view(), name="notifications-read"),
    path("team/members/", team.TeamMembersView.as_view(), name="team-members"),
    path("team/members/<dbid:user_id>/", team.TeamMemberView.as_view(), name="team-member"),
    path("team/invites/", team.TeamInvitesView.as_view(), name="team-invites"),
    path("team/invites/accept/", team.TeamInviteAcceptView.as_view(), name="team-invite-accept"),
    path("team/invites/<dbid:invite_id>/", team.TeamInviteView.as_view(), name="team-invite"),
    path("staff-roles/", team.StaffRolesView.as_view(), name="staff-roles"),
    path("staff-roles/<dbid:user_id>/", team.StaffRoleView.as_view(), name="staff-role"),
    path("account-assignments/", team.AccountAssignmentsView.as_view(), name="account-assignments"),
    path(
        "account-assignments/<dbid:assignment_id>/",
        team.AccountAssignmentView.as_view(),
        name="account-assignment",
    ),
    path("network-terms/", network_terms.NetworkTermsView.as_view(), name="network-terms"),
    *router.urls,
]
