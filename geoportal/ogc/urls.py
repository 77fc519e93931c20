"""OGC API - Features at /ogc/ (paths are a public interface: DESIGN.md §7)."""

from __future__ import annotations

from django.urls import path

from geoportal.ogc import views
from geoportal.tiles import ogc_views as tiles

app_name = "ogc"

urlpatterns = [
    path("", views.landing, name="landing"),
    path("conformance", views.conformance, name="conformance"),
    path("openapi", views.openapi, name="openapi"),
    path("collections", views.collections, name="collections"),
    path("collections/<str:cid>", views.collection, name="collection"),
    path("collections/<str:cid>/queryables", views.queryables, name="queryables"),
    path("collections/<str:cid>/items", views.items, name="items"),
    # path: a source id may contain '/'.
    path("collections/<str:cid>/items/<path:fid>", views.item, name="item"),
    # OGC API - Tiles (geoportal/tiles/ogc_views.py): tile address in OGC order, row (y) before column (x).
    path("tileMatrixSets", tiles.tile_matrix_sets, name="tile-matrix-sets"),
    path("tileMatrixSets/<str:tms>", tiles.tile_matrix_set, name="tile-matrix-set"),
    path("collections/<str:cid>/tiles", tiles.collection_tilesets, name="collection-tilesets"),
    path("collections/<str:cid>/tiles/<str:tms>", tiles.collection_tileset, name="collection-tileset"),
    path("collections/<str:cid>/tiles/<str:tms>/<int:z>/<int:y>/<int:x>", tiles.collection_tile, name="collection-tile"),
    path("cities/<slug:city>/tiles", tiles.city_tilesets, name="city-tilesets"),
    path("cities/<slug:city>/tiles/<str:tms>", tiles.city_tileset, name="city-tileset"),
    path("cities/<slug:city>/tiles/<str:tms>/<int:z>/<int:y>/<int:x>", tiles.city_tile, name="city-tile"),
]
