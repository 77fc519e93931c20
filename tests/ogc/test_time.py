"""`datetime` and the CQL2 temporal (T_*) and array (A_*) operators on layers that hold dates and arrays."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from layers.models import Layer
from tests.ogc.conftest import assert_invalid

ITEMS = "/ogc/collections/lida-utilities/items"
# Utilities place features in time by `installed` (config/themes/utilities.yaml: temporal: {instant: installed}).
PIPES = [
    ("u1", "LINESTRING(25.30 53.89, 25.31 53.89)", {"network": "water", "installed": "2019-05-01", "tags": ["old", "cast"]}),
    ("u2", "LINESTRING(25.31 53.89, 25.32 53.89)", {"network": "gas", "installed": "2020-01-15", "tags": ["new"]}),
    ("u3", "LINESTRING(25.32 53.89, 25.33 53.89)", {"network": "heat", "installed": "2021-12-31", "tags": []}),
    ("u4", "LINESTRING(25.33 53.89, 25.34 53.89)", {"network": "power", "tags": ["old", "steel", "new"]}),
]
# Stored values no ingest would write (an edit by hand, an untyped field): they must read as "no time", not fail.
BAD_ROWS = [
    ("x1", "LINESTRING(25.34 53.89, 25.35 53.89)", {"network": "water", "installed": "2019-02-30"}),
    ("x2", "LINESTRING(25.35 53.89, 25.36 53.89)", {"network": "water", "installed": "not a date"}),
    ("x3", "LINESTRING(25.36 53.89, 25.37 53.89)", {"network": "water", "installed": 2019}),
    ("x4", "LINESTRING(25.37 53.89, 25.38 53.89)", {"network": "water", "installed": "0000-01-01"}),
]


@pytest.fixture
def pipes_with_dates(make_layer: Callable[..., Layer]) -> Layer:
    return make_layer("lida", "utilities", "utilities", PIPES + BAD_ROWS)


def ids(client, path: str = ITEMS, **query: Any) -> list[str]:
    response = client.get(path, {"limit": 100, **query})
    assert response.status_code == 200, response.content[:400]
    return [f["id"] for f in response.json()["features"]]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2019-05-01", ["u1"]),
        ("2019-05-01T00:00:00Z", ["u1"]),
        ("2019-05-01T03:00:00+03:00", ["u1"]),  # the same instant in Minsk time
        ("2019-05-01T12:00:00Z", ["u1"]),  # a date attribute covers its day (as the oracle compares dates)
        ("2019-05-01T23:59:59Z", ["u1"]),
        ("2019-05-02T00:00:00Z", []),
        ("2019-04-30T12:00:00Z/2019-05-01T00:00:00Z", ["u1"]),
        ("2019-01-01/2020-12-31", ["u1", "u2"]),
        ("2019-05-01/2020-01-15", ["u1", "u2"]),  # closed interval: both ends included
        ("2020-01-01/..", ["u2", "u3"]),
        ("2020-01-01/", ["u2", "u3"]),
        ("../2019-12-31", ["u1"]),
        ("/2019-12-31", ["u1"]),
        ("1900-01-01/2100-01-01", ["u1", "u2", "u3"]),  # u4 has no time, bad rows read as none
    ],
)
def test_datetime_selects_on_the_theme_time_attribute(client, pipes_with_dates, value, expected):
    assert ids(client, datetime=value) == expected


def test_datetime_combines_with_filter_and_bbox_and_drops_number_matched(client, pipes_with_dates):
    response = client.get(ITEMS, {"datetime": "2019-01-01/..", "filter": "network <> 'gas'", "bbox": "25.29,53.88,25.325,53.9"})
    body = response.json()
    assert [f["id"] for f in body["features"]] == ["u1", "u3"]
    assert "numberMatched" not in body  # a filtered count would cost a scan
    assert all("datetime=2019-01-01" in x["href"] for x in body["links"] if x["rel"] in ("self", "alternate"))


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("yesterday", "RFC 3339"),
        ("2019-02-30", "does not exist"),
        ("2019-13-01", "does not exist"),
        ("2019-05-01T25:00:00Z", "does not exist"),
        ("2019-05-01T10:00", "RFC 3339"),  # RFC 3339 date-times have seconds
        ("2021-01-01/2020-01-01", "the start is after the end"),
        ("../..", "both ends are open"),
        ("2019-01-01/2019-02-01/2019-03-01", "exactly one '/'"),
        ("01.05.2019", "RFC 3339"),
    ],
)
def test_bad_datetime_is_400_naming_the_parameter(client, pipes_with_dates, value, says):
    assert_invalid(client.get(ITEMS, {"datetime": value}), "datetime", says)


def test_collection_without_time_attribute_selects_nothing_for_datetime(client, points_2500):
    """Addresses have no temporal key: no feature has a temporal geometry to intersect the value (Part 1, datetime)."""
    path = "/ogc/collections/sample-addresses/items"
    for value in ("2024-05-01T00:00:00Z", "2024-01-01T00:00:00Z/..", "../2024-12-31", "2024-01-01"):
        response = client.get(path, {"datetime": value, "limit": 5})
        assert response.status_code == 200 and response.json()["numberReturned"] == 0
    assert client.get(path, {"datetime": "2024-02-30"}).status_code == 400  # still validated
    assert client.get(path, {"limit": 5}).json()["numberReturned"] == 5
    assert "temporal" not in client.get("/ogc/collections/sample-addresses").json()["extent"]


def test_national_collection_filters_and_extends_in_time_like_its_city_layers(client, pipes_with_dates):
    assert ids(client, "/ogc/collections/utilities/items", datetime="2020-01-01/..") == ["lida:u2", "lida:u3"]
    extent = client.get("/ogc/collections/utilities").json()["extent"]
    assert extent["temporal"]["interval"] == [["2019-05-01T00:00:00Z", "2021-12-31T00:00:00Z"]]


def test_temporal_extent_follows_a_new_layer_version(client, pipes_with_dates):
    """Cached per layer version: an import that changes the features changes the extent."""
    from layers.models import Feature

    assert client.get("/ogc/collections/lida-utilities").json()["extent"]["temporal"]["interval"][0][1].startswith("2021")
    Feature.objects.filter(layer=pipes_with_dates, fid="u3").delete()
    pipes_with_dates.version += 1
    pipes_with_dates.save()
    assert client.get("/ogc/collections/lida-utilities").json()["extent"]["temporal"]["interval"] == [
        ["2019-05-01T00:00:00Z", "2020-01-15T00:00:00Z"]
    ]


def test_collection_temporal_extent_comes_from_the_data(client, pipes_with_dates):
    extent = client.get("/ogc/collections/lida-utilities").json()["extent"]
    assert extent["temporal"] == {
        "interval": [["2019-05-01T00:00:00Z", "2021-12-31T00:00:00Z"]],
        "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
    }
    assert "spatial" in extent


def test_theme_with_time_but_no_dated_feature_has_no_temporal_extent(client, lida_buildings):
    assert "temporal" not in client.get("/ogc/collections/lida-buildings").json()["extent"]


def test_queryables_give_dates_a_format_and_arrays_a_type(client, pipes_with_dates):
    props = client.get("/ogc/collections/lida-utilities/queryables").json()["properties"]
    assert props["installed"]["type"] == "string" and props["installed"]["format"] == "date"
    assert props["installed"]["x-ogc-role"] == "primary-instant"
    assert props["tags"]["type"] == "array"


def test_html_item_page_shows_the_time(client, pipes_with_dates):
    page = client.get(ITEMS + "/u1", {"f": "html"}).content.decode()
    assert "time (installed)" in page and "<time>2019-05-01</time>" in page
    assert "time (" not in client.get(ITEMS + "/u4", {"f": "html"}).content.decode()


# --------------------------------------------------------------------- CQL2 temporal

# Allen's relations between two literal intervals: the expected truth of op(A, B) for each pair.
A = "INTERVAL('2020-01-01','2020-12-31')"
TEMPORAL_CASES = [
    ("T_AFTER", A, "INTERVAL('2019-01-01','2019-12-31')", True),
    ("T_AFTER", A, "INTERVAL('2019-01-01','2020-01-01')", False),  # touching is not after
    ("T_BEFORE", A, "INTERVAL('2021-01-01','..')", True),
    ("T_BEFORE", A, "INTERVAL('2020-12-31','..')", False),
    ("T_CONTAINS", A, "INTERVAL('2020-03-01','2020-04-01')", True),
    ("T_CONTAINS", A, "INTERVAL('2020-01-01','2020-04-01')", False),
    ("T_DISJOINT", A, "INTERVAL('2021-01-01','2021-02-01')", True),
    ("T_DISJOINT", A, "DATE('2020-06-01')", False),
    ("T_DURING", A, "INTERVAL('2019-01-01','..')", True),
    ("T_DURING", A, "INTERVAL('2020-01-01','..')", False),
    ("T_EQUALS", A, "INTERVAL('2020-01-01','2020-12-31')", True),
    ("T_EQUALS", "DATE('2020-01-01')", "TIMESTAMP('2020-01-01T00:00:00Z')", True),
    ("T_FINISHEDBY", A, "INTERVAL('2020-06-01','2020-12-31')", True),
    ("T_FINISHES", A, "INTERVAL('2019-06-01','2020-12-31')", True),
    ("T_FINISHES", A, "INTERVAL('2020-01-01','2020-12-31')", False),
    ("T_INTERSECTS", A, "INTERVAL('2020-12-31','2021-12-31')", True),
    ("T_INTERSECTS", A, "TIMESTAMP('2021-01-01T00:00:00Z')", False),
    ("T_MEETS", A, "INTERVAL('2020-12-31','2021-12-31')", True),
    ("T_METBY", A, "INTERVAL('2019-01-01','2020-01-01')", True),
    ("T_OVERLAPPEDBY", A, "INTERVAL('2019-06-01','2020-06-01')", True),
    ("T_OVERLAPS", A, "INTERVAL('2020-06-01','2021-06-01')", True),
    ("T_OVERLAPS", A, "INTERVAL('2019-06-01','2020-06-01')", False),
    ("T_STARTEDBY", A, "INTERVAL('2020-01-01','2020-06-01')", True),
    ("T_STARTS", A, "INTERVAL('2020-01-01','2021-06-01')", True),
    ("T_STARTS", A, "INTERVAL('2020-01-01','2020-12-31')", False),
]


@pytest.mark.parametrize(("op", "a", "b", "holds"), TEMPORAL_CASES)
def test_temporal_operator_semantics_on_literals(client, pipes_with_dates, op, a, b, holds):
    everything = ["u1", "u2", "u3", "u4", "x1", "x2", "x3", "x4"]
    assert ids(client, filter=f"{op}({a}, {b})") == (everything if holds else [])


@pytest.mark.parametrize(
    ("text", "json_filter", "expected"),
    [
        (
            "T_AFTER(installed, DATE('2019-12-31'))",
            {"op": "t_after", "args": [{"property": "installed"}, {"date": "2019-12-31"}]},
            ["u2", "u3"],
        ),
        (
            "T_BEFORE(installed, TIMESTAMP('2020-01-15T00:00:00Z'))",
            {"op": "t_before", "args": [{"property": "installed"}, {"timestamp": "2020-01-15T00:00:00Z"}]},
            ["u1"],
        ),
        (
            "T_DURING(installed, INTERVAL('2019-06-01', '..'))",
            {"op": "t_during", "args": [{"property": "installed"}, {"interval": ["2019-06-01", ".."]}]},
            ["u2", "u3"],
        ),
        (
            "T_INTERSECTS(installed, INTERVAL('2019-05-01', '2020-01-15'))",
            {"op": "t_intersects", "args": [{"property": "installed"}, {"interval": ["2019-05-01", "2020-01-15"]}]},
            ["u1", "u2"],
        ),
        (
            "T_EQUALS(installed, DATE('2021-12-31'))",
            {"op": "t_equals", "args": [{"property": "installed"}, {"date": "2021-12-31"}]},
            ["u3"],
        ),
        (
            "NOT T_DISJOINT(INTERVAL(installed, '2030-01-01'), DATE('2020-06-01'))",
            {
                "op": "not",
                "args": [
                    {
                        "op": "t_disjoint",
                        "args": [{"interval": [{"property": "installed"}, "2030-01-01"]}, {"date": "2020-06-01"}],
                    }
                ],
            },
            ["u1", "u2"],
        ),
        (
            "installed >= DATE('2020-01-15')",
            {"op": ">=", "args": [{"property": "installed"}, {"date": "2020-01-15"}]},
            ["u2", "u3"],
        ),
        ("installed < '2020-01-01'", {"op": "<", "args": [{"property": "installed"}, "2020-01-01"]}, ["u1"]),
    ],
)
def test_temporal_filters_on_a_date_property_text_and_json_agree(client, pipes_with_dates, text, json_filter, expected):
    assert ids(client, filter=text) == expected
    assert ids(client, filter=json.dumps(json_filter), **{"filter-lang": "cql2-json"}) == expected


def test_sortby_a_date_orders_by_time(client, pipes_with_dates):
    assert ids(client, sortby="-installed", filter="installed IS NOT NULL")[:3] == ["u3", "u2", "u1"]


@pytest.mark.parametrize(
    ("filter_text", "says"),
    [
        ("T_AFTER(network, DATE('2020-01-01'))", "property 'network' is string"),
        ("T_AFTER(installed, 2020)", "found 2020"),
        ("T_AFTER(installed, 'yesterday')", 'found "yesterday"'),
        ("T_AFTER(installed, DATE('2020-02-30'))", "does not exist"),
        ("T_AFTER(installed, DATE('2020-01-01T10:00:00Z'))", "is not a date YYYY-MM-DD"),
        ("T_DURING(installed, INTERVAL('2021-01-01', '2020-01-01'))", "starts after it ends"),
        ("T_DURING(installed, INTERVAL('2021-01-01'))", "takes a start and an end"),
        ("T_AFTER(installed)", "takes 2 argument(s)"),
        ("installed > 'soon'", "'soon' is not a date"),
        ("installed > 5", "compares values of different types"),
        ("T_AFTER(nothing, DATE('2020-01-01'))", "unknown property 'nothing'"),
    ],
)
def test_bad_temporal_filter_is_400_pointing_at_the_part(client, pipes_with_dates, filter_text, says):
    assert_invalid(client.get(ITEMS, {"filter": filter_text}), "filter", says)


# --------------------------------------------------------------------- CQL2 arrays


@pytest.mark.parametrize(
    ("text", "json_filter", "expected"),
    [
        ("A_EQUALS(tags, ('new'))", {"op": "a_equals", "args": [{"property": "tags"}, ["new"]]}, ["u2"]),
        ("A_EQUALS(tags, ())", {"op": "a_equals", "args": [{"property": "tags"}, []]}, ["u3"]),
        ("A_CONTAINS(tags, ('new', 'old'))", {"op": "a_contains", "args": [{"property": "tags"}, ["new", "old"]]}, ["u4"]),
        ("A_CONTAINS(tags, ('old'))", {"op": "a_contains", "args": [{"property": "tags"}, ["old"]]}, ["u1", "u4"]),
        (
            "A_CONTAINEDBY(tags, ('old', 'cast', 'new'))",
            {"op": "a_containedby", "args": [{"property": "tags"}, ["old", "cast", "new"]]},
            ["u1", "u2", "u3"],
        ),
        (
            "A_OVERLAPS(tags, ('steel', 'cast'))",
            {"op": "a_overlaps", "args": [{"property": "tags"}, ["steel", "cast"]]},
            ["u1", "u4"],
        ),
        (
            "NOT A_OVERLAPS(tags, ('old'))",
            {"op": "not", "args": [{"op": "a_overlaps", "args": [{"property": "tags"}, ["old"]]}]},
            ["u2", "u3"],
        ),
    ],
)
def test_array_operators_text_and_json_agree(client, pipes_with_dates, text, json_filter, expected):
    assert ids(client, filter=text) == expected
    assert ids(client, filter=json.dumps(json_filter), **{"filter-lang": "cql2-json"}) == expected


@pytest.mark.parametrize(
    ("filter_text", "says"),
    [
        ("A_CONTAINS(network, ('water'))", "property 'network' is string"),
        ("A_CONTAINS(tags, 'old')", "needs an array property or an array literal"),
        ("tags = ('old')", "does not apply to arrays"),
        ("A_EQUALS(tags, (POINT(1 2)))", "array literal may hold values and arrays only"),
    ],
)
def test_bad_array_filter_is_400_pointing_at_the_part(client, pipes_with_dates, filter_text, says):
    assert_invalid(client.get(ITEMS, {"filter": filter_text}), "filter", says)


def test_sortby_an_array_is_refused(client, pipes_with_dates):
    assert_invalid(client.get(ITEMS, {"sortby": "tags"}), "sortby", "not a sortable property")


def test_conformance_declares_temporal_and_array_functions(client, db):
    conforms = client.get("/ogc/conformance").json()["conformsTo"]
    cql2 = "http://www.opengis.net/spec/cql2/1.0/conf/"
    assert {cql2 + "temporal-functions", cql2 + "array-functions"} <= set(conforms)
