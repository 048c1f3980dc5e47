from rest_framework.routers import DefaultRouter

from tracking.api import views

router = DefaultRouter()
router.register("conversions", views.ConversionViewSet, basename="conversion")

urlpatterns = router.urls
