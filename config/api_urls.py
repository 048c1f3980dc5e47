"""Every app's API router, mounted under /api/v1/."""

from django.urls import include, path

urlpatterns = [
    path("", include("affiliates.api.urls")),
    path("", include("tracking.api.urls")),  # conversions
    path("", include("payouts.reports.api.urls")),
    path("", include("payouts.api.urls")),
    path("", include("payouts.callbacks.api.urls")),
    path("", include("payouts.api.urls_payout_runs")),
    path("", include("payouts.automation.api.urls")),
    path("", include("payouts.experiments.api.urls")),
]
