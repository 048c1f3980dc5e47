"""Routes of payout runs, payouts, statements and invoices (mounted under /api/v1/)."""

from django.urls import path

from affiliates.api.routers import DefaultRouter
from payouts.api import documents, documents_issued, payout_runs

router = DefaultRouter()
router.include_root_view = False
router.register("payout-runs", payout_runs.PayoutRunViewSet)
router.register("payouts", payout_runs.PayoutViewSet)
router.register("documents", documents_issued.DocumentViewSet)
router.register("advertiser-payments", documents_issued.AdvertiserPaymentViewSet)

urlpatterns = [
    *router.urls,
    path("statements/", documents.StatementView.as_view(), name="statements"),
]
