"""Items and item: GeoJSON compared with the database, bbox, limits, keyset paging, ETag/304."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import shapely
from django.conf import settings
from django.test import override_settings
from shapely.geometry import shape

from layers.models import Feature


def db_rows(layer):
    return {f.fid: (shapely.from_wkb(bytes(f.geom.wkb)), f.properties) for f in Feature.objects.filter(layer=layer)}


def link(doc, rel):
    found = [x["href"] for x in doc["links"] if x["rel"] == rel]
    return found[0] if found else None


def relative(url):
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_items_match_database_rows(client, lida_buildings):
    response = client.get("/ogc/collections/lida-buildings/items")
    assert response.status_code == 200 and response["Content-Type"] == "application/geo+json"
    doc = json.loads(response.content)
    assert doc["type"] == "FeatureCollection"
    assert doc["numberReturned"] == 4 and doc["numberMatched"] == 4
    assert doc["timeStamp"].endswith("Z")
    rows = db_rows(lida_buildings)
    assert [f["id"] for f in doc["features"]] == ["b1", "b2", "b/3", "b4"]  # ordered by Feature.id = insertion order
    for feature in doc["features"]:
        geom, props = rows[feature["id"]]
        assert feature["type"] == "Feature"
        assert feature["properties"] == props
        assert shape(feature["geometry"]).equals_exact(geom, tolerance=1e-9)
    assert doc["features"][3]["properties"] == {"note": None, "tags": ["a", "b"]}
    assert doc["features"][3]["geometry"]["coordinates"][0][0] == [25.1234567, 53.8765432]
    assert link(doc, "self") == "http://testserver/ogc/collections/lida-buildings/items?limit=10&f=json"
    assert link(doc, "alternate").endswith("f=html")
    assert link(doc, "collection") == "http://testserver/ogc/collections/lida-buildings?f=json"
    assert link(doc, "next") is None


def test_item_matches_database_row_and_links(client, lida_buildings):
    response = client.get("/ogc/collections/lida-buildings/items/b%2F3")
    assert response.status_code == 200 and response["Content-Type"] == "application/geo+json"
    feature = json.loads(response.content)
    geom, props = db_rows(lida_buildings)["b/3"]
    assert feature["id"] == "b/3" and feature["properties"] == props == {"name": 'Quote " & <tag>', "levels": 1}
    assert shape(feature["geometry"]).equals_exact(geom, tolerance=1e-9)
    assert link(feature, "self") == "http://testserver/ogc/collections/lida-buildings/items/b%2F3?f=json"
    assert link(feature, "collection") == "http://testserver/ogc/collections/lida-buildings?f=json"


def test_unknown_item_is_404_with_clear_message(client, lida_buildings):
    response = client.get("/ogc/collections/lida-buildings/items/nope")
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "NotFound"
    assert "'nope'" in body["description"] and "'lida-buildings'" in body["description"]


def test_unknown_collection_items_is_404(client, db):
    response = client.get("/ogc/collections/lida-nothing/items")
    assert response.status_code == 404 and response.json()["code"] == "NotFound"


@pytest.mark.parametrize(
    ("bbox", "expected"),
    [
        ("25.30,53.89,25.31,53.90", {"b1"}),  # exactly b1's outline
        ("25.31,53.895,25.32,53.896", {"b1", "b2"}),  # touches b1's east edge and b2's west edge
        ("25.3101,53.895,25.3199,53.896", set()),  # the gap between them
        ("25.355,53.915,25.356,53.916", {"b/3"}),  # inside b/3
        ("25.0,53.0,26.0,54.0", {"b1", "b2", "b/3", "b4"}),
        ("25.30,53.89,0,25.31,53.90,100", {"b1"}),  # 6 numbers: heights ignored
    ],
)
def test_bbox_selects_features_touching_the_box(client, lida_buildings, bbox, expected):
    doc = client.get("/ogc/collections/lida-buildings/items", {"bbox": bbox}).json()
    assert {f["id"] for f in doc["features"]} == expected
    assert doc["numberReturned"] == len(expected)
    assert "numberMatched" not in doc  # a filtered count would cost a scan: omitted
    assert parse_qs(urlsplit(link(doc, "self")).query)["bbox"] == [bbox]


def test_limit_default_and_clamping(client, points_2500):
    doc = client.get("/ogc/collections/sample-addresses/items").json()
    assert doc["numberReturned"] == settings.GEOPORTAL["DEFAULT_LIMIT"]
    with override_settings(GEOPORTAL={**settings.GEOPORTAL, "MAX_LIMIT": 100}):
        response = client.get("/ogc/collections/sample-addresses/items", {"limit": "5000"})
        doc = response.json()
        assert doc["numberReturned"] == 100
        assert response["Geoportal-Limit-Clamped"] == "requested 5000, served at most 100 (the maximum)"
        assert parse_qs(urlsplit(link(doc, "next")).query)["limit"] == ["100"]
        assert "Geoportal-Limit-Clamped" not in client.get("/ogc/collections/sample-addresses/items", {"limit": "100"})


def test_keyset_paging_walks_every_feature_once(client, points_2500):
    url: str | None = "/ogc/collections/sample-addresses/items?limit=700"
    seen, pages = [], 0
    while url:
        doc = client.get(url).json()
        assert doc["numberMatched"] == 2500
        seen += [f["id"] for f in doc["features"]]
        pages += 1
        next_href = link(doc, "next")
        url = relative(next_href) if next_href else None
    assert pages == 4 and len(seen) == 2500
    assert seen == [f"p{i}" for i in range(2500)]  # no duplicates, no gaps, in id order


def test_exact_multiple_of_limit_has_no_empty_last_page(client, points_2500):
    doc = client.get("/ogc/collections/sample-addresses/items", {"limit": "1250"}).json()
    second = client.get(relative(link(doc, "next"))).json()
    assert second["numberReturned"] == 1250 and link(second, "next") is None


def test_paging_with_bbox_keeps_the_filter(client, points_2500):
    # The lower-left 10×10 corner of the grid: 100 points, paged 30 at a time.
    url: str | None = "/ogc/collections/sample-addresses/items?limit=30&bbox=24.8995,60.1495,24.9095,60.1595"
    seen = []
    while url:
        doc = client.get(url).json()
        seen += [f["properties"]["n"] for f in doc["features"]]
        url = relative(link(doc, "next")) if link(doc, "next") else None
    assert seen == sorted(row * 50 + col for row in range(10) for col in range(10))


def test_offset_is_accepted_and_next_becomes_a_cursor(client, points_2500):
    doc = client.get("/ogc/collections/sample-addresses/items", {"limit": "3", "offset": "10"}).json()
    assert [f["id"] for f in doc["features"]] == ["p10", "p11", "p12"]
    query = parse_qs(urlsplit(link(doc, "next")).query)
    assert "offset" not in query and "cursor" in query
    assert [f["id"] for f in client.get(relative(link(doc, "next"))).json()["features"]] == ["p13", "p14", "p15"]


def test_etag_and_not_modified(client, lida_buildings):
    url = "/ogc/collections/lida-buildings/items?limit=2"
    first = client.get(url)
    etag = first["ETag"]
    assert etag.startswith('W/"')
    again = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == etag
    assert client.get(url, HTTP_IF_NONE_MATCH=etag.removeprefix("W/")).status_code == 304
    assert client.get(url, HTTP_IF_NONE_MATCH='"other"').status_code == 200
    assert client.get(url + "&bbox=25,53,26,54")["ETag"] != etag  # the query is part of the tag
    lida_buildings.version += 1
    lida_buildings.save()
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 200  # a new layer version invalidates


def test_item_etag_and_not_modified(client, lida_buildings):
    first = client.get("/ogc/collections/lida-buildings/items/b1")
    assert client.get("/ogc/collections/lida-buildings/items/b1", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    assert client.get("/ogc/collections/lida-buildings/items/b2")["ETag"] != first["ETag"]


def test_items_html_lists_properties(client, lida_buildings):
    html = client.get("/ogc/collections/lida-buildings/items", {"f": "html"}).content.decode()
    for value in ("Замак", "School No 1", "b/3", "[&quot;a&quot;, &quot;b&quot;]", "Polygon"):
        assert value in html


def test_empty_layer_has_empty_feature_list(client, make_layer):
    make_layer("pinsk", "transport", "transport", [])
    doc = client.get("/ogc/collections/pinsk-transport/items").json()
    assert doc["features"] == [] and doc["numberReturned"] == 0 and link(doc, "next") is None
    assert "extent" not in client.get("/ogc/collections/pinsk-transport").json()


def test_negotiated_responses_vary_on_accept(client, lida_buildings):
    for path in (
        "/ogc/",
        "/ogc/collections",
        "/ogc/collections/lida-buildings/items",
        "/ogc/collections/lida-buildings/items/b1",
    ):
        assert "Accept" in [v.strip() for v in client.get(path)["Vary"].split(",")]
