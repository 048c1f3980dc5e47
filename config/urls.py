from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config.health import healthz

# Under /api/, Django's own 400 and 404 answer in the API's JSON error shape.
handler400 = "affiliates.api.base.bad_request"
handler404 = "affiliates.api.base.not_found"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file (?script): the
    # Content-Security-Policy allows no inline script.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="api_docs/swagger_ui.html"),
        name="api-docs",
    ),
    # The conversion pixel, /p/<offer_id>.gif (contract section 4). /c/, /i/ and /postback are
    # answered by the edge before Django sees them (config/asgi.py, tracking/clickpath/edge.py).
    path("", include("tracking.conversions.urls")),
]

# Portals (server-rendered pages for publishers, advertisers and staff).
urlpatterns += [
    path("", include("tracking.portal.urls")),
    path("", include("payouts.portal.urls")),
    path("", include("payouts.automation.portal.urls")),
    path("", include("payouts.incrementality.portal.urls")),
    path("", include("payouts.experiments.portal.urls")),
    path("", include("affiliates.portal.urls")),
]
