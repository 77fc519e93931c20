"""TileJSON and MapLibre styles: structure, versions in URLs, and nothing the caller may not see."""

from __future__ import annotations

import json

from django.test import Client

from geoportal.config import project_config

from .conftest import decode, point_wkt


def test_layer_tilejson_fields(lida):
    lida.buildings.attribution = "© OpenStreetMap contributors, ODbL"
    lida.buildings.save()
    response = Client().get("/tiles/lida-buildings.json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["tilejson"] == "3.0.0"
    assert doc["tiles"] == ["http://testserver/tiles/lida-buildings/{z}/{x}/{y}.mvt?v=1"]
    assert doc["bounds"] == list(lida.buildings.extent.extent)
    assert doc["minzoom"] == 13 and doc["maxzoom"] == 22
    lon, lat, zoom = doc["center"]
    assert doc["bounds"][0] < lon < doc["bounds"][2] and doc["bounds"][1] < lat < doc["bounds"][3]
    assert 13 <= zoom <= 22
    (vector_layer,) = doc["vector_layers"]
    assert vector_layer["id"] == "lida-buildings"
    assert vector_layer["minzoom"] == 13 and vector_layer["maxzoom"] == 22
    theme = project_config().themes["buildings"]
    assert {a.name: a.type for a in theme.attributes}.items() <= vector_layer["fields"].items()
    assert vector_layer["fields"]["levels"] == "integer"
    assert doc["attribution"] == "© OpenStreetMap contributors, ODbL"


def test_tilejson_states_no_attribution_the_layer_does_not_have(lida):
    doc = Client().get("/tiles/lida-roads.json").json()
    assert "attribution" not in doc
    assert doc["minzoom"] == 6


def test_tilejson_of_hidden_layer_is_404(lida):
    assert Client().get("/tiles/lida-secret.json").status_code == 404
    assert Client().get("/tiles/lida-nothing.json").status_code == 404


def test_city_tilejson_lists_only_visible_layers(lida):
    doc = Client().get("/tiles/city/lida.json").json()
    assert doc["tiles"][0].startswith("http://testserver/tiles/city/lida/{z}/{x}/{y}.mvt?v=")
    assert sorted(v["id"] for v in doc["vector_layers"]) == ["lida-addresses", "lida-buildings", "lida-roads"]
    assert doc["minzoom"] == 6  # roads
    assert "lida-secret" not in json.dumps(doc) and "lida-pipes" not in json.dumps(doc)


def test_tilejson_304_when_unchanged(lida):
    client = Client()
    first = client.get("/tiles/city/lida.json")
    assert client.get("/tiles/city/lida.json", headers={"If-None-Match": first["ETag"]}).status_code == 304


def test_city_style_is_a_self_contained_maplibre_style(lida, make_layer):
    make_layer(None, "boundaries", "boundaries", [("by", point_wkt(6, 37, 20, 0.5, 0.5), {"kind": "country"})])
    make_layer(None, "hidden", "boundaries", [("x", point_wkt(6, 37, 20, 0.5, 0.5), {})], visibility="restricted")
    client = Client()
    style = client.get("/styles/lida.json").json()
    assert style["version"] == 8
    assert set(style["sources"]) == {"geoportal", "belarus-boundaries"}
    composite = style["sources"]["geoportal"]
    assert composite["type"] == "vector" and composite["minzoom"] == 0 and composite["maxzoom"] == 16
    version = composite["tiles"][0].rsplit("?v=", 1)[1]
    assert composite["tiles"][0] == client.get("/tiles/city/lida.json").json()["tiles"][0]
    assert style["sources"]["belarus-boundaries"]["tiles"] == ["http://testserver/tiles/belarus-boundaries/{z}/{x}/{y}.mvt?v=1"]
    assert style["layers"][0]["type"] == "background"
    assert "glyphs" not in style and "sprite" not in style
    text = json.dumps(style)
    assert "lida-secret" not in text and "lida-pipes" not in text and "belarus-hidden" not in text
    assert "http" not in text.replace("http://testserver/", "")

    # Every style layer draws a source-layer that the tiles actually carry.
    z15 = decode(client.get(f"/tiles/city/lida/15/{lida.x * 2}/{lida.y * 2 + 1}.mvt?v={version}").content)
    z14 = decode(client.get(f"/tiles/city/lida/14/{lida.x}/{lida.y}.mvt?v={version}").content)
    national = decode(client.get("/tiles/belarus-boundaries/6/37/20.mvt").content)
    served = set(z15) | set(z14) | set(national)
    ids = set()
    for layer in style["layers"][1:]:
        assert layer["source"] in style["sources"]
        assert layer["source-layer"] in served
        assert layer["type"] != "symbol"
        assert layer["id"].startswith(layer["source-layer"] + ":")
        assert layer["metadata"]["geoportal:collection"] == layer["source-layer"]
        assert set(layer["metadata"]["geoportal:title"]) == {"be", "ru", "en"}
        ids.add(layer["id"])
    assert len(ids) == len(style["layers"]) - 1
    assert {layer["source-layer"] for layer in style["layers"][1:]} == {
        "lida-buildings",
        "lida-roads",
        "lida-addresses",
        "belarus-boundaries",
    }
    # The basemap draws under the city's layers; theme zoom ranges carry over.
    first_city = next(i for i, layer in enumerate(style["layers"]) if layer.get("source") == "geoportal")
    assert all(layer.get("source") != "belarus-boundaries" for layer in style["layers"][first_city:])
    fill = next(layer for layer in style["layers"] if layer["id"] == "lida-buildings:fill")
    assert fill["minzoom"] == 13 and fill["maxzoom"] == 23
    paths = next(layer for layer in style["layers"] if layer["id"] == "lida-roads:paths")
    assert paths["minzoom"] == 15
    centre = style["center"]
    assert centre == [lida.buildings.city.centre.x, lida.buildings.city.centre.y]


def test_national_style_has_public_national_layers_only(lida, make_layer):
    make_layer(None, "boundaries", "boundaries", [("by", point_wkt(6, 37, 20, 0.5, 0.5), {"kind": "country"})])
    make_layer(None, "hidden", "boundaries", [("x", point_wkt(6, 37, 20, 0.5, 0.5), {})], visibility="internal")
    style = Client().get("/styles/belarus.json").json()
    assert set(style["sources"]) == {"belarus-boundaries"}
    assert {layer["source-layer"] for layer in style["layers"][1:]} == {"belarus-boundaries"}
    lon, lat = style["center"]
    assert 23 < lon < 33 and 51 < lat < 57


def test_national_style_without_layers_centres_on_belarus(cities):
    style = Client().get("/styles/belarus.json").json()
    assert style["sources"] == {} and len(style["layers"]) == 1
    lon, lat = style["center"]
    assert 23 < lon < 33 and 51 < lat < 57


def test_style_of_unknown_city_is_404(db):
    response = Client().get("/styles/atlantis.json")
    assert response.status_code == 404 and response.json()["code"] == "NotFound"
