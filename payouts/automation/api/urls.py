from affiliates.api.routers import SimpleRouter
from payouts.automation.api import views

router = SimpleRouter()
router.register("automation-rules", views.RuleViewSet, basename="automation-rule")
router.register("automation-firings", views.FiringViewSet, basename="automation-firing")

urlpatterns = router.urls
