"""Vector tiles, TileJSON and MapLibre styles (DESIGN.md §7). Non-integer z/x/y do not match: 404."""

from __future__ import annotations

from django.urls import URLPattern, path

from geoportal.tiles import views

urlpatterns: list[URLPattern] = [
    path("tiles/city/<slug:city>/<int:z>/<int:x>/<int:y>.mvt", views.city_tile, name="tiles-city"),
    path("tiles/city/<slug:city>.json", views.city_tilejson, name="tilejson-city"),
    path("tiles/<slug:cid>/<int:z>/<int:x>/<int:y>.mvt", views.layer_tile, name="tiles-layer"),
    path("tiles/<slug:cid>.json", views.layer_tilejson, name="tilejson-layer"),
    path("styles/<slug:city>.json", views.style, name="style"),
]
