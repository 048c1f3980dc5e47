from rest_framework.routers import DefaultRouter

from payouts.postbacks.api import views

router = DefaultRouter()
router.register("postback-endpoints", views.PostbackEndpointViewSet, basename="postback-endpoint")
router.register("postback-deliveries", views.PostbackDeliveryViewSet, basename="postback-delivery")

urlpatterns = router.urls
