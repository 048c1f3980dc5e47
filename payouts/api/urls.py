from django.urls import path

from affiliates.api.routers import SimpleRouter
from payouts.api import traffic, views
from payouts.api.holdouts import HoldoutTestViewSet
from payouts.api.smartlinks import SmartLinkViewSet
from payouts.api.tracking_domains import TrackingDomainViewSet

router = SimpleRouter()
router.register("commissions", views.CommissionViewSet, basename="commission")
router.register("ledger/entries", views.EntryViewSet, basename="ledger-entry")
router.register("fx-rates", views.FxRateViewSet, basename="fx-rate")
router.register("smart-links", SmartLinkViewSet, basename="smart-link")
router.register("holdout-tests", HoldoutTestViewSet, basename="holdout-test")
router.register("tracking-domains", TrackingDomainViewSet, basename="tracking-domain")

urlpatterns = [
    path("balances/", views.BalanceView.as_view(), name="balances"),
    path("traffic/invalidate/", traffic.TrafficInvalidateView.as_view(), name="traffic-invalidate"),
    *router.urls,
]
