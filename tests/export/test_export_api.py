"""/api/export: the three formats decoded and compared with the database, the cap, access, bad input."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client, override_settings
from pyogrio.raw import read as ogr_read
from shapely import from_wkb
from shapely import wkt as shapely_wkt

from layers.models import Feature, Layer

INSIDE = "24.94,60.16,24.96,60.18"


@pytest.fixture
def buildings_half_inside_the_box(make_layer: Callable[..., Layer]) -> Layer:
    """Two buildings inside INSIDE (one with a Cyrillic name and a missing height), one outside."""
    return make_layer(
        "sample",
        "buildings",
        "buildings",
        [
            (
                "b1",
                "POLYGON((24.95 60.17, 24.951 60.17, 24.951 60.171, 24.95 60.171, 24.95 60.17))",
                {"name": "Ратуша", "levels": 3},
            ),
            ("b2", "POINT(24.945 60.165)", {"name": "Kiosk", "levels": 1, "height": 3.5}),
            ("b3", "POINT(25.5 60.5)", {"name": "far away", "levels": 2}),
        ],
    )


def _export(client: Client, **params: str) -> Any:
    response = client.get("/api/export", params)
    assert response.status_code == 200, response.content
    return response


def test_geojson_export_holds_the_features_in_the_box(client: Client, buildings_half_inside_the_box: Layer) -> None:
    response = _export(client, collection="sample-buildings", bbox=INSIDE, format="geojson")
    assert response["Content-Type"] == "application/geo+json"
    assert 'filename="sample-buildings.geojson"' in response["Content-Disposition"]
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert sorted(f["id"] for f in body["features"]) == ["b1", "b2"]
    b1 = next(f for f in body["features"] if f["id"] == "b1")
    assert b1["properties"] == Feature.objects.get(fid="b1").properties


def test_gpkg_export_decodes_with_pyogrio(client: Client, buildings_half_inside_the_box: Layer, tmp_path: Path) -> None:
    response = _export(client, collection="sample-buildings", bbox=INSIDE, format="gpkg")
    assert response["Content-Type"] == "application/geopackage+sqlite3"
    path = tmp_path / "out.gpkg"
    path.write_bytes(response.content)
    meta, _fids, geometry, fields = ogr_read(path)
    assert meta["crs"] == "EPSG:4326"
    columns = dict(zip(meta["fields"], fields, strict=True))
    assert sorted(columns["fid"]) == ["b1", "b2"]
    by_fid = {fid: i for i, fid in enumerate(columns["fid"])}
    assert columns["name"][by_fid["b1"]] == "Ратуша"
    assert int(columns["levels"][by_fid["b2"]]) == 1
    db_geom = Feature.objects.get(fid="b1").geom

    assert from_wkb(geometry[by_fid["b1"]]).equals_exact(shapely_wkt.loads(db_geom.wkt), 1e-9)


def test_csv_export_has_wkt_and_every_property(client: Client, buildings_half_inside_the_box: Layer) -> None:
    response = _export(client, collection="sample-buildings", bbox=INSIDE, format="csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r["fid"] for r in rows] == ["b1", "b2"]
    assert rows[0]["name"] == "Ратуша" and rows[0]["height"] == ""
    assert rows[1]["height"] == "3.5"
    assert shapely_wkt.loads(rows[1]["wkt"]).equals(shapely_wkt.loads("POINT(24.945 60.165)"))


def test_without_bbox_the_whole_layer_is_exported(client: Client, buildings_half_inside_the_box: Layer) -> None:
    assert len(_export(client, collection="sample-buildings").json()["features"]) == 3


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "csv"])
def test_more_features_than_the_cap_is_a_clear_400(client: Client, buildings_half_inside_the_box: Layer, fmt: str) -> None:
    with override_settings(GEOPORTAL={"EXPORT_MAX_FEATURES": 1}):
        response = client.get("/api/export", {"collection": "sample-buildings", "bbox": INSIDE, "format": fmt})
    assert response.status_code == 400
    assert response.json()["parameter"] == "bbox"
    assert "limited to 1" in response.json()["description"]


def test_internal_layer_is_not_exported_to_anonymous(client: Client, make_layer: Callable[..., Layer]) -> None:
    make_layer("sample", "pipes", "utilities", [("p1", "POINT(24.95 60.17)", {})], visibility="internal")
    response = client.get("/api/export", {"collection": "sample-pipes"})
    assert response.status_code == 404
    assert response.json()["code"] == "NotFound"


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({}, "collection"),
        ({"collection": "sample-buildings", "format": "shp"}, "format"),
        ({"collection": "sample-buildings", "bbox": "1,2,3"}, "bbox"),
        ({"collection": "sample-buildings", "bbox": "25,60,24,61"}, "bbox"),
        ({"collection": "sample-buildings", "crs": "x"}, "crs"),
    ],
)
def test_bad_export_parameters_answer_400_naming_them(
    client: Client, buildings_half_inside_the_box: Layer, params: dict[str, str], parameter: str
) -> None:
    response = client.get("/api/export", params)
    assert response.status_code == 400
    assert response.json()["parameter"] == parameter
