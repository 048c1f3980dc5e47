from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config.health import healthz
from tracking.clickpath.wsgi import click_view, impression_view

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # Served by tracking.clickpath.wsgi.ClickApp in production; routed here for runserver/tests.
    path("c/<str:token>", click_view, name="click"),
    path("i/<str:token>", impression_view, name="impression"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    # Conversions: /postback and /p/<offer_id>.gif (contract sections 3 and 4).
    path("", include("tracking.conversions.urls")),
]

# Portals (server-rendered pages for publishers, advertisers and staff).
urlpatterns += [
    path("", include("tracking.portal.urls")),
    path("", include("payouts.portal.urls")),
    path("", include("affiliates.portal.urls")),
]
