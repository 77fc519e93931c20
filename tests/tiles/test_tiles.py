"""Vector tiles served by /tiles/…: content, zoom rules, errors, access control and caching."""

from __future__ import annotations

import gzip

import pytest
from django.contrib.auth.models import User
from django.test import Client

from layers.tiles import BRIEF_BELOW_ZOOM, TileSource, render_tile

from .conftest import decode, lonlat_in_tile, point_wkt, raw_layer, square_wkt

MVT = "application/vnd.mapbox-vector-tile"


def url(cid: str, z: int, x: int, y: int) -> str:
    return f"/tiles/{cid}/{z}/{x}/{y}.mvt"


def test_tile_holds_exactly_the_features_inside_it(lida):
    response = Client().get(url("lida-buildings", lida.z, lida.x, lida.y))
    assert response.status_code == 200
    assert response["Content-Type"] == MVT
    tile = decode(response.content)
    assert list(tile) == ["lida-buildings"]
    layer = tile["lida-buildings"]
    assert layer["extent"] == 4096
    # Below z15 only what the map draws (the buildings style needs no attribute; `name` labels) …
    assert lida.z < BRIEF_BELOW_ZOOM
    by_name = {f["properties"].get("name"): f for f in layer["features"]}
    assert set(by_name) == {"School 1", "Hospital", None}  # b3 has no name: no attribute at all
    assert by_name[None]["properties"] == {}
    # … from z15 every attribute: b2 (centre 0.50, 0.50) lies in the z15 child tile (2x+1, 2y+1).
    child = decode(Client().get(url("lida-buildings", lida.z + 1, 2 * lida.x + 1, 2 * lida.y + 1)).content)
    (b2,) = (f for f in child["lida-buildings"]["features"] if f["properties"].get("name") == "Hospital")
    assert b2["properties"] == {"name": "Hospital", "levels": 5, "building": "public"}
    # No MVT feature ids: the database id changes with every import (the viewer asks /api/identify).
    assert not any(feature.HasField("id") for feature in raw_layer(response.content, "lida-buildings").features)
    # b1 spans 0.10..0.15 of the tile: 409.6..614.4 in tile units (y down).
    ring = by_name["School 1"]["geometry"]["coordinates"][0]
    xs, ys = [p[0] for p in ring], [p[1] for p in ring]
    assert min(xs) == pytest.approx(410, abs=1) and max(xs) == pytest.approx(614, abs=1)
    assert min(ys) == pytest.approx(410, abs=1) and max(ys) == pytest.approx(614, abs=1)
    for feature in layer["features"]:
        for x, y in feature["geometry"]["coordinates"][0]:
            assert 0 <= x <= 4096 and 0 <= y <= 4096


def test_point_lands_at_its_tile_position(lida):
    # Addresses start at z15: the z15 child tile holding fraction (0.25, 0.75) of the z14 tile.
    z, x, y = 15, lida.x * 2, lida.y * 2 + 1
    tile = decode(Client().get(url("lida-addresses", z, x, y)).content)
    (feature,) = tile["lida-addresses"]["features"]
    assert feature["properties"] == {"housenumber": "7"}
    px, py = feature["geometry"]["coordinates"]
    assert px == pytest.approx(0.5 * 4096, abs=1) and py == pytest.approx(0.5 * 4096, abs=1)


def test_tile_far_from_the_data_is_204(lida):
    response = Client().get(url("lida-buildings", lida.z, lida.x - 10, lida.y - 10))
    assert response.status_code == 204
    assert response.content == b""
    assert "ETag" in response


def test_zoom_below_the_theme_minimum_is_204(lida):
    # Buildings start at z13; the z12 tile holds the features but must stay empty.
    response = Client().get(url("lida-buildings", 12, lida.x // 4, lida.y // 4))
    assert response.status_code == 204
    assert Client().get(url("lida-buildings", 13, lida.x // 2, lida.y // 2)).status_code == 200


def test_composite_tile_has_one_layer_per_public_layer_and_nothing_hidden(lida):
    response = Client().get(f"/tiles/city/lida/{lida.z}/{lida.x}/{lida.y}.mvt")
    assert response.status_code == 200
    tile = decode(response.content)
    # addresses start at z15, so the z14 composite holds buildings and roads only.
    assert set(tile) == {"lida-buildings", "lida-roads"}
    assert len(tile["lida-buildings"]["features"]) == 3
    assert tile["lida-roads"]["features"][0]["properties"]["class"] == "primary"
    # The hidden layers' features are the only ones with a `kind` (water, gas).
    assert not any("kind" in f["properties"] for layer in tile.values() for f in layer["features"])
    assert b"lida-secret" not in response.content and b"lida-pipes" not in response.content
    assert response["Cache-Control"].startswith("public")


def test_composite_tile_for_superuser_includes_hidden_layers_privately(lida):
    client = Client()
    client.force_login(User.objects.create_superuser("admin"))
    response = client.get(f"/tiles/city/lida/{lida.z}/{lida.x}/{lida.y}.mvt")
    tile = decode(response.content)
    assert set(tile) == {"lida-buildings", "lida-roads", "lida-pipes", "lida-secret"}
    assert response["Cache-Control"].startswith("private")


def test_composite_tile_of_unknown_city_is_404(db):
    response = Client().get("/tiles/city/atlantis/14/0/0.mvt")
    assert response.status_code == 404
    assert response.json()["code"] == "NotFound"


def test_hidden_collection_answers_exactly_like_a_missing_one(lida):
    hidden = Client().get(url("lida-secret", lida.z, lida.x, lida.y))
    lida.secret_restricted.delete()
    missing = Client().get(url("lida-secret", lida.z, lida.x, lida.y))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.content == missing.content
    assert hidden.json()["code"] == "NotFound"


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/tiles/lida-buildings/25/0/0.mvt", "z"),
        ("/tiles/lida-buildings/3/8/0.mvt", "x"),
        ("/tiles/lida-buildings/3/0/8.mvt", "y"),
        ("/tiles/lida-buildings/0/0/1.mvt", "y"),
        ("/tiles/city/lida/99/0/0.mvt", "z"),
        ("/tiles/nobody-nothing/3/0/8.mvt", "y"),
    ],
)
def test_tile_outside_the_matrix_is_400_naming_the_parameter(lida, path, parameter):
    response = Client().get(path)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "InvalidParameterValue"
    assert body["parameter"] == parameter
    assert parameter + "=" in body["description"]


def test_non_integer_tile_address_is_404_json(lida):
    response = Client().get("/tiles/lida-buildings/14/abc/1.mvt")
    assert response.status_code == 404
    assert response.json()["code"] == "NotFound"


def test_etag_answers_304_also_in_weak_form(lida):
    client = Client()
    first = client.get(url("lida-buildings", lida.z, lida.x, lida.y))
    etag = first["ETag"]
    again = client.get(url("lida-buildings", lida.z, lida.x, lida.y), headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == etag
    weak = client.get(url("lida-buildings", lida.z, lida.x, lida.y), headers={"If-None-Match": f"W/{etag}"})
    assert weak.status_code == 304
    other = client.get(url("lida-buildings", lida.z, lida.x + 1, lida.y))
    assert other["ETag"] != etag


def test_gzip_middleware_keeps_the_tile_decodable_and_304_working(make_layer):
    # Many alike points: the tile is long and compressible, so GZipMiddleware does compress it.
    z, x, y = 14, 9343, 5269
    points = [(str(i), point_wkt(z, x, y, 0.01 * i, 0.5), {"kind": "water", "material": "steel"}) for i in range(1, 90)]
    make_layer("lida", "pipes", "utilities", points)
    client = Client()
    path = url("lida-pipes", z, x, y)
    response = client.get(path, headers={"Accept-Encoding": "gzip"})
    assert response["Content-Type"] == MVT
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    assert response["ETag"].startswith('W/"')
    assert len(decode(gzip.decompress(response.content))["lida-pipes"]["features"]) == 89
    again = client.get(path, headers={"Accept-Encoding": "gzip", "If-None-Match": response["ETag"]})
    assert again.status_code == 304


def test_version_bump_changes_etag_and_cache_lifetime(lida, settings):
    settings.GEOPORTAL = {**settings.GEOPORTAL, "TILE_CACHE_SECONDS": 45}
    client = Client()
    path = url("lida-buildings", lida.z, lida.x, lida.y)
    current = client.get(path + "?v=1")
    assert current["Cache-Control"] == "public, max-age=31536000, immutable"
    lida.buildings.version = 2
    lida.buildings.save()
    stale = client.get(path + "?v=1")
    assert stale["ETag"] != current["ETag"]
    assert stale["Cache-Control"] == "public, max-age=45"
    assert client.get(path, headers={"If-None-Match": current["ETag"]}).status_code == 200
    assert client.get(path + "?v=2")["Cache-Control"].endswith("immutable")
    tilejson = client.get("/tiles/lida-buildings.json").json()
    assert tilejson["tiles"][0].endswith("?v=2")


def test_composite_version_changes_when_any_layer_changes(lida):
    client = Client()
    before = client.get("/tiles/city/lida.json").json()["tiles"][0]
    lida.roads.version = 7
    lida.roads.save()
    after = client.get("/tiles/city/lida.json").json()["tiles"][0]
    assert before != after
    version = after.rsplit("?v=", 1)[1]
    tile = client.get(f"/tiles/city/lida/{lida.z}/{lida.x}/{lida.y}.mvt?v={version}")
    assert tile["Cache-Control"].endswith("immutable")


def test_feature_cap_keeps_the_highest_priority_features(make_layer):
    z, x, y = 14, 9343, 5322
    lines = [
        (
            str(rank),
            "LINESTRING({} {}, {} {})".format(
                *lonlat_in_tile(z, x, y, 0.1, 0.1 * rank), *lonlat_in_tile(z, x, y, 0.9, 0.1 * rank)
            ),
            {"class_rank": rank},
        )
        for rank in (5, 1, 3, 2)
    ]
    lines.append(
        ("none", "LINESTRING({} {}, {} {})".format(*lonlat_in_tile(z, x, y, 0.1, 0.95), *lonlat_in_tile(z, x, y, 0.9, 0.95)), {})
    )
    roads = make_layer("lida", "roads", "roads", lines)
    source = TileSource(layer_id=roads.id, name="r", min_zoom=6, max_zoom=22, priority_attribute="class_rank")
    tile = decode(render_tile(sources=[source], z=z, x=x, y=y, feature_cap=2))
    assert sorted(f["properties"]["class_rank"] for f in tile["r"]["features"]) == [1, 2]
    assert len(decode(render_tile(sources=[source], z=z, x=x, y=y))["r"]["features"]) == 5


def test_low_zoom_drops_sub_pixel_polygons_and_simplifies(make_layer):
    z, x, y = 16, 37374, 21290
    tiny = square_wkt(z, x, y, 0.5, 0.5, 0.0005)  # about 0.3 m across
    big = square_wkt(z, x, y, 0.1, 0.1, 0.5)
    # A zig-zag line whose wiggles are far below a pixel at z10.
    points = [lonlat_in_tile(z, x, y, 0.05 + i * 0.009, 0.8 + (0.001 if i % 2 else 0)) for i in range(100)]
    wiggly = "LINESTRING(" + ", ".join(f"{lon} {lat}" for lon, lat in points) + ")"
    layer = make_layer(None, "boundaries", "boundaries", [("tiny", tiny, {}), ("big", big, {}), ("line", wiggly, {})])
    source = TileSource(layer_id=layer.id, name="b")
    detailed = decode(render_tile(sources=[source], z=z, x=x, y=y))["b"]["features"]
    assert len(detailed) == 3
    coarse = decode(render_tile(sources=[source], z=10, x=x >> 6, y=y >> 6))["b"]["features"]
    assert len(coarse) == 2  # the tiny square is gone
    coarse_line = next(f for f in coarse if f["geometry"]["type"] == "LineString")
    detailed_line = next(f for f in detailed if f["geometry"]["type"] == "LineString")
    assert len(coarse_line["geometry"]["coordinates"]) < 5 < len(detailed_line["geometry"]["coordinates"])


def test_national_layer_tile(make_layer):
    layer = make_layer(
        None, "boundaries", "boundaries", [("by", point_wkt(6, 37, 20, 0.5, 0.5), {"kind": "country", "name": "Belarus"})]
    )
    response = Client().get(url("belarus-boundaries", 6, 37, 20))
    tile = decode(response.content)
    assert tile["belarus-boundaries"]["features"][0]["properties"] == {"kind": "country", "name": "Belarus"}
    assert layer.collection_id == "belarus-boundaries"
