"""/api/imports — paths are a public interface (DESIGN.md §7)."""

from __future__ import annotations

from django.urls import path

from geoportal.api import views

urlpatterns = [
    path("imports", views.imports, name="api-imports"),
    path("imports/<int:job_id>", views.import_detail, name="api-import"),
]
