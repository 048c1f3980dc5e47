from django.urls import path

from affiliates.api.routers import SimpleRouter
from payouts.reports.api import attribution, customers, views

router = SimpleRouter()
router.register("offer-targets", views.OfferTargetViewSet, basename="offer-target")

urlpatterns = [
    path("reports/", views.ReportView.as_view(), name="reports"),
    path("reports/effect/", views.EffectScoreView.as_view(), name="reports-effect"),
    path("reports/customers/cohorts/", customers.CohortView.as_view(), name="reports-customer-cohorts"),
    path("reports/customers/mix/", customers.MixView.as_view(), name="reports-customer-mix"),
    path("reports/customers/ltv/", customers.LtvView.as_view(), name="reports-customer-ltv"),
    path("reports/customers/refresh/", customers.RefreshView.as_view(), name="reports-customer-refresh"),
    path("reports/attribution/", attribution.AttributionView.as_view(), name="reports-attribution"),
    path(
        "reports/attribution/participation/",
        attribution.ParticipationView.as_view(),
        name="reports-attribution-participation",
    ),
    path(
        "reports/attribution/refresh/",
        attribution.JourneysRefreshView.as_view(),
        name="reports-attribution-refresh",
    ),
    *router.urls,
]
