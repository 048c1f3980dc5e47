from affiliates.api.routers import DefaultRouter
from payouts.callbacks.api import views, webhooks

router = DefaultRouter()
router.register("postback-endpoints", views.CallbackEndpointViewSet, basename="postback-endpoint")
router.register("postback-deliveries", views.CallbackDeliveryViewSet, basename="postback-delivery")
router.register("webhooks", webhooks.WebhookSubscriptionViewSet, basename="webhook")
router.register("webhook-deliveries", webhooks.WebhookDeliveryViewSet, basename="webhook-delivery")

urlpatterns = router.urls
