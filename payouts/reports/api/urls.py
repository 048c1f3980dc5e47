from django.urls import path

from affiliates.api.routers import SimpleRouter
from payouts.reports.api import views

router = SimpleRouter()
router.register("offer-targets", views.OfferTargetViewSet, basename="offer-target")

urlpatterns = [
    path("reports/", views.ReportView.as_view(), name="reports"),
    path("reports/effect/", views.EffectScoreView.as_view(), name="reports-effect"),
    *router.urls,
]
