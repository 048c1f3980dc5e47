from affiliates.api.routers import DefaultRouter
from tracking.api import views

router = DefaultRouter()
router.register("conversions", views.ConversionViewSet, basename="conversion")

urlpatterns = router.urls
