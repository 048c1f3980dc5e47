from affiliates.api.routers import DefaultRouter
from payouts.callbacks.api import views

router = DefaultRouter()
router.register("postback-endpoints", views.CallbackEndpointViewSet, basename="postback-endpoint")
router.register("postback-deliveries", views.CallbackDeliveryViewSet, basename="postback-delivery")

urlpatterns = router.urls
