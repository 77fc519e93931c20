"""URL map. Paths are a public interface (DESIGN.md §7): keep them stable."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from geoportal.views import health

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("ogc/", include("geoportal.ogc.urls")),
    path("", include("geoportal.tiles.urls")),
    path("api/", include("geoportal.api.urls")),
    path("api/", include("geoportal.viewer.api_urls")),
    path("", include("geoportal.viewer.urls")),
]

handler400 = "geoportal.errors.handler400"
handler404 = "geoportal.errors.handler404"
handler500 = "geoportal.errors.handler500"
