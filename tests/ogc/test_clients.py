"""Real clients against a live server: GDAL's OAPIF driver, OWSLib, and schemathesis on our OpenAPI document."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from shapely.geometry import shape

from layers.models import Feature

pytestmark = pytest.mark.django_db(transaction=True)


def stored(layer):
    import shapely

    return {f.fid: (shapely.from_wkb(bytes(f.geom.wkb)), f.properties) for f in Feature.objects.filter(layer=layer)}


@pytest.mark.skipif(shutil.which("ogr2ogr") is None, reason="GDAL command-line tools are not installed")
def test_gdal_oapif_reads_count_attributes_and_coordinates(live_server, lida_buildings, tmp_path):
    out = tmp_path / "lida.geojson"
    source = f"OAPIF:{live_server.url}/ogc/collections/lida-buildings"
    run = subprocess.run(
        ["ogr2ogr", "-f", "GeoJSON", str(out), source, "--config", "OGR_OAPIF_PAGE_SIZE", "2"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    features = json.loads(out.read_text())["features"]
    rows = stored(lida_buildings)
    assert len(features) == len(rows) == 4  # read over two pages of 2, following 'next'
    for feature in features:
        fid = feature["properties"].get("id", feature.get("id"))
        geom, props = rows[fid]
        assert shape(feature["geometry"]).equals_exact(geom, tolerance=1e-9)
        for key in ("name", "levels"):
            if key in props:
                assert feature["properties"][key] == props[key]


@pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="GDAL command-line tools are not installed")
def test_gdal_ogrinfo_lists_collections_with_feature_count(live_server, lida_buildings, points_2500):
    run = subprocess.run(
        ["ogrinfo", "-ro", "-so", f"OAPIF:{live_server.url}/ogc", "sample-addresses"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "Feature Count: 2500" in run.stdout
    assert "n: Integer" in run.stdout or "n: Integer64" in run.stdout


def test_owslib_lists_collections_and_pages_items(live_server, lida_buildings, points_2500):
    from owslib.ogcapi.features import Features

    api = Features(live_server.url + "/ogc/")
    ids = {c["id"] for c in api.collections()["collections"]}
    assert {"lida-buildings", "sample-addresses"} <= ids
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in api.conformance()["conformsTo"]
    first = api.collection_items("sample-addresses", limit=1000)
    assert first["numberReturned"] == 1000 and first["numberMatched"] == 2500
    seen = [f["properties"]["n"] for f in first["features"]]
    cursor_link = next(x["href"] for x in first["links"] if x["rel"] == "next")
    cursor = cursor_link.split("cursor=")[1].split("&")[0]
    second = api.collection_items("sample-addresses", limit=1000, cursor=cursor)
    seen += [f["properties"]["n"] for f in second["features"]]
    assert seen == list(range(2000))
    filtered = api.collection_items("lida-buildings", filter="levels > 1")
    assert [f["id"] for f in filtered["features"]] == ["b1", "b2"]


def test_schemathesis_finds_no_server_error_or_schema_break(live_server, lida_buildings):
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import response_schema_conformance

    schema = schemathesis.openapi.from_url(live_server.url + "/ogc/openapi")
    checks = [not_a_server_error, response_schema_conformance]

    @settings(max_examples=50, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=schema.as_strategy())
    def check(case):
        case.call_and_validate(checks=checks)

    check()


def test_schemathesis_on_the_tile_paths_finds_no_server_error_or_schema_break(live_server, lida_buildings):
    """Every OGC API - Tiles operation on its own (the mixed run above may sample few of them): binary tiles
    must come back as the declared media type, empty tiles as 204, bad addresses as 400/404 exceptions."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

    schema = schemathesis.openapi.from_url(live_server.url + "/ogc/openapi")
    checks = [not_a_server_error, response_schema_conformance, status_code_conformance]
    tile_paths = [path for path in schema.raw_schema["paths"] if "/tile" in path]
    operations = [schema[path]["GET"] for path in tile_paths]
    assert len(operations) == 8
    statuses: set[tuple[str, int]] = set()
    for operation in operations:

        @settings(max_examples=15, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def check(case):
            response = case.call_and_validate(checks=checks)
            statuses.add((operation.path, response.status_code))

        check()
    # A tile with features, through the same checks: 200 with the declared binary media type.
    from layers.tiles import tile_for_lonlat

    x, y = tile_for_lonlat(lon=25.305, lat=53.895, z=14)
    operation = schema["/collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}"]["GET"]
    address = {
        "collectionId": "lida-buildings",
        "tileMatrixSetId": "WebMercatorQuad",
        "tileMatrix": 14,
        "tileRow": y,
        "tileCol": x,
    }
    response = operation.Case(path_parameters=address).call_and_validate(checks=checks)
    statuses.add((operation.path, response.status_code))
    assert response.status_code == 200 and response.headers["content-type"] == ["application/vnd.mapbox-vector-tile"]
    # And an empty tile (the generated addresses need not hit one): 204, as declared.
    empty = operation.Case(path_parameters={**address, "tileMatrix": 3, "tileRow": 0, "tileCol": 0})
    response = empty.call_and_validate(checks=checks)
    statuses.add((operation.path, response.status_code))
    assert response.status_code == 204
    assert {status for _, status in statuses} >= {200, 204, 400, 404}
    assert {status for _, status in statuses} <= {200, 204, 304, 400, 404}
