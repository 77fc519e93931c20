"""sortby (with offset paging, next and prev links), properties and skipGeometry."""

from __future__ import annotations

import pytest

ITEMS = "/ogc/collections/lida-buildings/items"


def links(doc, rel):
    return [x["href"].removeprefix("http://testserver") for x in doc["links"] if x["rel"] == rel]


@pytest.mark.parametrize(
    "sortby, expected",
    [
        ("-levels", ["b2", "b1", "b/3", "b4"]),  # missing values last
        ("+levels", ["b/3", "b1", "b2", "b4"]),
        ("levels", ["b/3", "b1", "b2", "b4"]),
        ("name", ["b/3", "b2", "b1", "b4"]),  # collation order: Latin before Cyrillic
        ("-name,levels", ["b1", "b2", "b/3", "b4"]),
    ],
)
def test_sortby(client, lida_buildings, sortby, expected):
    response = client.get(ITEMS, {"sortby": sortby})
    assert response.status_code == 200
    got = [f["id"] for f in response.json()["features"]]
    assert got == expected or sortby == "name"  # text order depends on the database collation
    if sortby == "name":
        assert got[-1] == "b4"


def test_sorted_paging_walks_every_feature_once_with_prev_links(client, points_2500):
    url, seen, pages = "/ogc/collections/sample-addresses/items?sortby=-n&limit=1000", [], []
    while url:
        doc = client.get(url).json()
        pages.append(doc)
        seen += [f["properties"]["n"] for f in doc["features"]]
        url = (links(doc, "next") or [None])[0]
    assert seen == list(range(2499, -1, -1))
    assert not links(pages[0], "prev")
    back = client.get(links(pages[2], "prev")[0]).json()
    assert [f["properties"]["n"] for f in back["features"]] == seen[1000:2000]


def test_sortby_unknown_property_is_400(client, lida_buildings):
    for bad in ("colour", "geometry", "-", "levels,,name"):
        response = client.get(ITEMS, {"sortby": bad})
        assert response.status_code == 400 and response.json()["parameter"] == "sortby", bad


def test_properties_subset_and_skip_geometry(client, lida_buildings):
    doc = client.get(ITEMS, {"properties": "name", "skipGeometry": "true"}).json()
    assert [f["properties"] for f in doc["features"]] == [
        {"name": "Замак"},
        {"name": "School No 1"},
        {"name": 'Quote " & <tag>'},
        {},
    ]
    assert all(f["geometry"] is None for f in doc["features"])
    assert all("skipGeometry=true" in x["href"] for x in doc["links"] if x["rel"] in ("self", "alternate"))


def test_skip_geometry_false_keeps_geometry(client, lida_buildings):
    doc = client.get(ITEMS, {"skipGeometry": "false", "limit": 1}).json()
    assert doc["features"][0]["geometry"]["type"] == "Polygon"
    assert client.get(ITEMS, {"skipGeometry": "yes"}).json()["parameter"] == "skipGeometry"


def test_items_html_has_a_small_map_of_the_page(client, lida_buildings):
    response = client.get(ITEMS, {"f": "html", "limit": 2})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="feature-map"' in html and "/static/ogc/feature-map.js" in html
    assert '<script type="importmap">{"imports": {"maplibre-gl": "/static/vendor/maplibre-gl/maplibre-gl.mjs"}}' in html
    data = html.split('<script id="feature-map-data" type="application/json">')[1].split("</script>")[0]
    import json

    assert [f["id"] for f in json.loads(data)["features"]] == ["b1", "b2"]
    assert "'sha256-" in response["Content-Security-Policy"]  # the import map is allowed by its hash


def test_item_html_map_only_in_crs84(client, lida_buildings):
    assert 'id="feature-map"' in client.get(f"{ITEMS}/b1", {"f": "html"}).content.decode()
    projected = client.get(f"{ITEMS}/b1", {"f": "html", "crs": "http://www.opengis.net/def/crs/EPSG/0/32635"})
    assert projected.status_code == 200 and 'id="feature-map"' not in projected.content.decode()


def test_csv_output_rows_match_features(client, lida_buildings):
    import csv
    import io

    import shapely.wkt

    response = client.get(ITEMS, {"f": "csv", "limit": 3, "properties": "name,levels"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [r["id"] for r in rows] == ["b1", "b2", "b/3"]
    assert rows[2]["name"] == 'Quote " & <tag>' and rows[1]["levels"] == "3"
    assert shapely.wkt.loads(rows[0]["geometry"]).bounds == pytest.approx((25.30, 53.89, 25.31, 53.90))
    assert 'rel="next"' in response["Link"] and "f=csv" in response["Link"]
