from django.urls import path

from affiliates.api.routers import SimpleRouter
from payouts.api import views

router = SimpleRouter()
router.register("commissions", views.CommissionViewSet, basename="commission")
router.register("ledger/entries", views.EntryViewSet, basename="ledger-entry")
router.register("fx-rates", views.FxRateViewSet, basename="fx-rate")

urlpatterns = [
    path("balances/", views.BalanceView.as_view(), name="balances"),
    *router.urls,
]
