"""CQL2 filters (Part 3) in text and JSON: results compared with the expected features, bad filters answer 400."""

from __future__ import annotations

import json

import pytest

ITEMS = "/ogc/collections/lida-buildings/items"


def ids(client, url, query):
    response = client.get(url, query)
    assert response.status_code == 200, response.content
    return [f["id"] for f in response.json()["features"]]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("levels > 1", ["b1", "b2"]),
        ("levels >= 2 AND name LIKE 'Sch%'", ["b2"]),
        ("levels = 1 OR levels = 3", ["b2", "b/3"]),
        ("name IN ('Замак', 'nothing')", ["b1"]),
        ("name NOT IN ('Замак')", ["b2", "b/3"]),
        ("levels BETWEEN 1 AND 2", ["b1", "b/3"]),
        ("NOT levels BETWEEN 1 AND 2", ["b2"]),
        ("levels IS NULL", ["b4"]),
        ("name IS NOT NULL", ["b1", "b2", "b/3"]),
        ("name <> 'Замак'", ["b2", "b/3"]),
        ("CASEI(name) = casei('SCHOOL NO 1')", ["b2"]),
        ("name LIKE '%\"%'", ["b/3"]),
        ('"name" = \'Quote " & <tag>\'', ["b/3"]),
        ("(levels < 3) AND NOT (name = 'Замак')", ["b/3"]),
        ("S_INTERSECTS(geometry, POINT(25.305 53.895))", ["b1"]),
        ("S_WITHIN(geometry, BBOX(25.29, 53.88, 25.34, 53.91))", ["b1", "b2"]),
        ("S_INTERSECTS(geometry, POLYGON((25.3 53.9, 25.36 53.9, 25.36 53.95, 25.3 53.95, 25.3 53.9)))", ["b1", "b2", "b/3"]),
        ("S_DISJOINT(geometry, BBOX(25.29, 53.88, 25.34, 53.91))", ["b/3", "b4"]),
        ("S_DWITHIN(geometry, POINT(25.2999 53.8950), 10)", ["b1"]),  # ~6.6 m west of b1
        ("S_DWITHIN(geometry, POINT(25.2999 53.8950), 5)", []),
        ("TRUE", ["b1", "b2", "b/3", "b4"]),
    ],
)
def test_cql2_text(client, lida_buildings, text, expected):
    assert ids(client, ITEMS, {"filter": text}) == expected


def test_cql2_json_same_as_text(client, lida_buildings):
    tree = {
        "op": "and",
        "args": [
            {"op": ">", "args": [{"property": "levels"}, 1]},
            {"op": "s_intersects", "args": [{"property": "geometry"}, {"type": "Point", "coordinates": [25.325, 53.895]}]},
        ],
    }
    assert ids(client, ITEMS, {"filter": json.dumps(tree), "filter-lang": "cql2-json"}) == ["b2"]
    text = "levels > 1 AND S_INTERSECTS(geometry, POINT(25.325 53.895))"
    assert ids(client, ITEMS, {"filter": text, "filter-lang": "cql2-text"}) == ["b2"]


def test_filter_crs_epsg4326_reads_latitude_first(client, lida_buildings):
    query = {"filter": "S_INTERSECTS(geometry, POINT(53.895 25.305))", "filter-crs": "http://www.opengis.net/def/crs/EPSG/0/4326"}
    assert ids(client, ITEMS, query) == ["b1"]


def test_filter_crs_gauss_kruger(client, lida_buildings):
    import pyproj

    northing, easting = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:28405").transform(53.895, 25.305)
    query = {
        "filter": f"S_INTERSECTS(geometry, POINT({northing} {easting}))",
        "filter-crs": "http://www.opengis.net/def/crs/EPSG/0/28405",
    }
    assert ids(client, ITEMS, query) == ["b1"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("ACCENTI(name) = ACCENTI('Елка')", ["n0"]),
        ("ACCENTI(CASEI(name)) = ACCENTI(CASEI('CAFE CENTRAL'))", ["n1"]),
        ("ACCENTI(CASEI(name)) LIKE ACCENTI(CASEI('вуліца%'))", ["n2"]),
        ("name = 'Елка'", []),  # without ACCENTI, Ё and Е differ
    ],
)
def test_accent_and_case_insensitive(client, names_with_accents, text, expected):
    assert ids(client, "/ogc/collections/minsk-buildings/items", {"filter": text}) == expected


def test_filtered_page_omits_number_matched_and_carries_filter_in_next(client, points_2500):
    response = client.get("/ogc/collections/sample-addresses/items", {"filter": "n >= 100", "limit": 5})
    assert response.status_code == 200
    doc = response.json()
    assert "numberMatched" not in doc and doc["numberReturned"] == 5
    assert [f["properties"]["n"] for f in doc["features"]] == [100, 101, 102, 103, 104]
    following = next(x["href"] for x in doc["links"] if x["rel"] == "next")
    assert "filter=n+%3E%3D+100" in following
    second = client.get(following.removeprefix("http://testserver")).json()
    assert [f["properties"]["n"] for f in second["features"]] == [105, 106, 107, 108, 109]


@pytest.mark.parametrize(
    "query, says",
    [
        ({"filter": "colour = 'red'"}, "unknown property 'colour'"),
        ({"filter": "levels >"}, "position 9"),
        ({"filter": "levels > 'two'"}, "different types"),
        ({"filter": "name = 'x'; DROP TABLE layers_feature"}, "unexpected character ';'"),
        ({"filter": '"x\') OR 1=1 --" = 1'}, "unknown property"),
        ({"filter": "S_INTERSECTS(geometry, POINT(1))"}, "not valid WKT"),
        ({"filter": "S_INTERSECTS(name, POINT(1 2))"}, "not a geometry"),
        ({"filter": "T_AFTER(name, TIMESTAMP('2020-01-01T00:00:00Z'))"}, "property 'name' is string"),
        ({"filter": "levels = 1 levels"}, "position 12"),
        ({"filter": "(" * 5000}, "filter"),
        ({"filter": "   "}, "empty"),
        ({"filter": "{not json", "filter-lang": "cql2-json"}, "not valid JSON"),
        ({"filter": '{"op": "=", "args": [{"property": "levels"}]}', "filter-lang": "cql2-json"}, "takes 2"),
        (
            {
                "filter": '{"op": "s_intersects", "args": [{"property": "geometry"}, {"type": "Point"}]}',
                "filter-lang": "cql2-json",
            },
            "expected a geometry",
        ),
        ({"filter": "[1, 2]", "filter-lang": "cql2-json"}, "expected a predicate"),
    ],
)
def test_bad_filter_answers_400_pointing_at_the_problem(client, lida_buildings, query, says):
    response = client.get(ITEMS, query)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "InvalidParameterValue" and body["parameter"] == "filter"
    assert says in body["description"]


@pytest.mark.parametrize(
    "query, parameter",
    [
        ({"filter": "levels > 1", "filter-lang": "ecql"}, "filter-lang"),
        ({"filter": "levels > 1", "filter-crs": "EPSG:4326"}, "filter-crs"),
    ],
)
def test_bad_filter_language_or_crs(client, lida_buildings, query, parameter):
    response = client.get(ITEMS, query)
    assert response.status_code == 400 and response.json()["parameter"] == parameter


def test_queryables_from_theme_schema(client, lida_buildings):
    response = client.get("/ogc/collections/lida-buildings/queryables", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200 and response["Content-Type"] == "application/schema+json"
    doc = response.json()
    assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert doc["$id"] == "http://testserver/ogc/collections/lida-buildings/queryables"
    props = doc["properties"]
    assert props["levels"] == {"type": "integer", "title": "Floors"}
    assert props["height"]["type"] == "number" and props["name"]["type"] == "string"
    assert props["geometry"]["format"] == "geometry-multipolygon" or props["geometry"]["format"].startswith("geometry-")
    assert props["geometry"]["x-ogc-role"] == "primary-geometry"
    rels = {link["rel"] for link in client.get("/ogc/collections/lida-buildings").json()["links"]}
    assert "http://www.opengis.net/def/rel/ogc/1.0/queryables" in rels


def test_queryables_of_hidden_collection_is_404(client, hidden_layers):
    assert client.get("/ogc/collections/minsk-utilities/queryables").status_code == 404
