"""The viewer's API at /api/ (paths are a public interface: DESIGN.md §7)."""

from __future__ import annotations

from django.urls import path

from geoportal.viewer import api

urlpatterns = [
    path("search", api.search, name="api-search"),
    path("export", api.export, name="api-export"),
    path("identify", api.identify, name="api-identify"),
    path("feature/<int:feature_id>", api.feature, name="api-feature"),
]
