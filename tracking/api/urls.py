from django.urls import path

from affiliates.api.routers import DefaultRouter
from tracking.api import clicks, policy, views

router = DefaultRouter()
router.register("conversions", views.ConversionViewSet, basename="conversion")
router.register("frequency-caps", policy.FrequencyCapViewSet, basename="frequency-cap")
router.register("list-entries", policy.ListEntryViewSet, basename="list-entry")
router.register("naming-templates", policy.NamingTemplateViewSet, basename="naming-template")

urlpatterns = [*router.urls, path("clicks/", clicks.ClickView.as_view(), name="clicks")]
