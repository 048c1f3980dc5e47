from django.urls import path

from affiliates.api.routers import SimpleRouter
from payouts.experiments.api import views

router = SimpleRouter()
router.register("ab-tests", views.AbTestViewSet, basename="ab-test")
router.register("budget-shifts", views.BudgetShiftViewSet, basename="budget-shift")

urlpatterns = [
    path("budget-shift-settings/", views.ShiftSettingsView.as_view(), name="budget-shift-settings"),
    *router.urls,
]
