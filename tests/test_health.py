"""/healthz: database, PostGIS and a real tile render through the tile code path."""

from __future__ import annotations

from django.test import Client

from tests.tiles.conftest import point_wkt


def test_healthz_without_public_data_renders_an_empty_tile(db):
    response = Client().get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert "PostgreSQL" in body["database"]
    assert body["postgis_version"].startswith("3.")
    assert body["tile"]["bytes"] == 0 and body["tile"]["collection"] is None
    assert body["tile"]["ms"] >= 0


def test_healthz_renders_a_tile_of_a_public_layer(make_layer):
    make_layer("lida", "secret", "buildings", [("s", point_wkt(14, 9343, 5269, 0.5, 0.5), {})], visibility="restricted")
    make_layer("lida", "addresses", "addresses", [("a", point_wkt(15, 18686, 10539, 0.5, 0.5), {"housenumber": "1"})])
    body = Client().get("/healthz").json()
    assert body["status"] == "ok"
    tile = body["tile"]
    assert tile["collection"] == "lida-addresses"
    assert (tile["z"], tile["x"], tile["y"]) == (15, 18686, 10539)  # the theme's min zoom (15) wins over 14
    assert tile["bytes"] > 0
