"""OGC API - Features at /ogc/ (paths are a public interface: DESIGN.md §7)."""

from __future__ import annotations

from django.urls import path

from geoportal.ogc import views

app_name = "ogc"

urlpatterns = [
    path("", views.landing, name="landing"),
    path("conformance", views.conformance, name="conformance"),
    path("openapi", views.openapi, name="openapi"),
    path("collections", views.collections, name="collections"),
    path("collections/<str:cid>", views.collection, name="collection"),
    path("collections/<str:cid>/items", views.items, name="items"),
    # path: a source id may contain '/'.
    path("collections/<str:cid>/items/<path:fid>", views.item, name="item"),
]
