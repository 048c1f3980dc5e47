from django.urls import path

from affiliates.api import api_keys, audit, network_terms, notifications, views
from affiliates.api.routers import DefaultRouter

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
    path("network-terms/", network_terms.NetworkTermsView.as_view(), name="network-terms"),
    *router.urls,
]
