"""OGC API - Tiles under /ogc/: tile matrix sets, tilesets, tiles in OGC row/column order, access control."""

from __future__ import annotations

import pytest
from django.test import Client

from .conftest import decode

WMQ = "WebMercatorQuad"


def test_tile_matrix_sets_define_web_mercator_and_crs84():
    listing = Client().get("/ogc/tileMatrixSets").json()
    assert [s["id"] for s in listing["tileMatrixSets"]] == [WMQ, "WorldCRS84Quad"]
    wmq = Client().get(f"/ogc/tileMatrixSets/{WMQ}").json()
    assert wmq["crs"].endswith("EPSG/0/3857")
    zero, twelve = wmq["tileMatrices"][0], wmq["tileMatrices"][12]
    assert zero["scaleDenominator"] == pytest.approx(559082264.0287178)
    assert (twelve["matrixWidth"], twelve["matrixHeight"]) == (4096, 4096)
    crs84 = Client().get("/ogc/tileMatrixSets/WorldCRS84Quad").json()
    assert crs84["tileMatrices"][0]["matrixWidth"] == 2 and crs84["tileMatrices"][0]["matrixHeight"] == 1
    assert crs84["tileMatrices"][0]["scaleDenominator"] == pytest.approx(279541132.0143589)


def test_unknown_tile_matrix_set_is_404_saying_what_exists():
    response = Client().get("/ogc/tileMatrixSets/Nowhere")
    assert response.status_code == 404
    assert WMQ in response.json()["description"]


def test_collection_tileset_lists_web_mercator_and_a_versioned_tile_template(lida):
    tilesets = Client().get("/ogc/collections/lida-buildings/tiles").json()["tilesets"]
    assert [t["tileMatrixSetURI"].rsplit("/", 1)[1] for t in tilesets] == [WMQ]
    tileset = Client().get(f"/ogc/collections/lida-buildings/tiles/{WMQ}").json()
    assert tileset["dataType"] == "vector"
    (layer,) = tileset["layers"]
    assert (layer["id"], layer["minTileMatrix"]) == ("lida-buildings", "13")
    properties = layer["propertiesSchema"]["properties"]
    assert properties["levels"] == {"type": "integer"}
    # A date attribute is a JSON string with a format, never the invalid type "date".
    assert properties["construction_date"] == {"type": "string", "format": "date"}
    (item,) = [link for link in tileset["links"] if link["rel"] == "item"]
    assert item["href"].endswith(f"/ogc/collections/lida-buildings/tiles/{WMQ}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}?v=1")


def test_ogc_tile_uses_row_then_column_and_matches_the_xyz_tile(lida):
    ogc = Client().get(f"/ogc/collections/lida-buildings/tiles/{WMQ}/{lida.z}/{lida.y}/{lida.x}")
    xyz = Client().get(f"/tiles/lida-buildings/{lida.z}/{lida.x}/{lida.y}.mvt")
    assert ogc.status_code == 200
    assert decode(ogc.content) == decode(xyz.content)
    assert ogc["ETag"] == xyz["ETag"]


def test_city_tileset_and_tile_hide_non_public_layers(lida):
    tileset = Client().get(f"/ogc/cities/lida/tiles/{WMQ}").json()
    assert {layer["id"] for layer in tileset["layers"]} == {"lida-buildings", "lida-roads", "lida-addresses"}
    tile = decode(Client().get(f"/ogc/cities/lida/tiles/{WMQ}/{lida.z}/{lida.y}/{lida.x}").content)
    assert set(tile) == {"lida-buildings", "lida-roads"}


@pytest.mark.parametrize(
    ("path", "status", "says"),
    [
        (f"/ogc/collections/lida-secret/tiles/{WMQ}", 404, "does not exist"),
        ("/ogc/collections/lida-secret/tiles", 404, "does not exist"),
        ("/ogc/collections/lida-buildings/tiles/WorldCRS84Quad/0/0/0", 404, WMQ),
        ("/ogc/collections/lida-buildings/tiles/Nowhere", 404, WMQ),
        (f"/ogc/collections/lida-buildings/tiles/{WMQ}/3/8/0", 400, "y=8"),
        (f"/ogc/cities/lida/tiles/{WMQ}/25/0/0", 400, "z=25"),
        (f"/ogc/cities/atlantis/tiles/{WMQ}", 404, "atlantis"),
    ],
)
def test_bad_tile_requests_answer_clearly(lida, path, status, says):
    response = Client().get(path)
    assert response.status_code == status
    assert says in response.json()["description"]
