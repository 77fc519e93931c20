"""Viewer pages. The city pattern excludes every other top-level path of the geoportal
(DESIGN.md §7), so `/ogc/`, `/tiles/`, `/styles/`, `/admin/`, `/static/`, `/healthz`
can never be taken for a city; any other slug that is not a registered city is a 404."""

from __future__ import annotations

from django.urls import path, re_path

from geoportal.viewer import views

RESERVED = ("ogc", "tiles", "styles", "admin", "static", "healthz", "metrics", "api", "i18n", "media")

urlpatterns = [
    path("", views.overview, name="viewer-overview"),
    re_path(rf"^(?!(?:{'|'.join(RESERVED)})/)(?P<city>[a-z0-9][a-z0-9-]{{0,39}})/$", views.city_map, name="viewer-city"),
]
