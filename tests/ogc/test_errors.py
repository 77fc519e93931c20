"""Bad input: 400 with an OGC exception document naming the parameter, never a 500."""

from __future__ import annotations

import pytest

ITEMS = "/ogc/collections/lida-buildings/items"


@pytest.mark.parametrize(
    ("query", "parameter", "says"),
    [
        ({"bbox": "25,53,26"}, "bbox", "expected 4 or 6 comma-separated numbers, found 3"),
        ({"bbox": "25,53,26,54,1"}, "bbox", "found 5"),
        ({"bbox": ""}, "bbox", "found 1"),
        ({"bbox": "25,abc,26,54"}, "bbox", "'abc' is not a number"),
        ({"bbox": "25,NaN,26,54"}, "bbox", "not a finite number"),
        ({"bbox": "25,53,inf,54"}, "bbox", "not a finite number"),
        ({"bbox": "26,53,25,54"}, "bbox", "antimeridian"),
        ({"bbox": "25,54,26,53"}, "bbox", "minimum latitude"),
        ({"bbox": "25,53,26,91"}, "bbox", "-90..90"),
        ({"bbox": "25,-91,26,54"}, "bbox", "-90..90"),
        ({"bbox": "-181,53,26,54"}, "bbox", "-180..180"),
        ({"limit": "0"}, "limit", "not a positive integer"),
        ({"limit": "-1"}, "limit", "not a positive integer"),
        ({"limit": "abc"}, "limit", "not a positive integer"),
        ({"limit": "²"}, "limit", "not a positive integer"),
        ({"limit": "1.5"}, "limit", "not a positive integer"),
        ({"offset": "-3"}, "offset", "not a non-negative integer"),
        ({"offset": "9" * 40}, "offset", "not a non-negative integer"),
        ({"cursor": "garbage!"}, "cursor", "not a cursor issued by this server"),
        ({"cursor": "azE6LTU"}, "cursor", "not a cursor"),  # base64 of 'k1:-5'
        ({"cursor": "eHl6"}, "cursor", "not a cursor"),  # base64 of 'xyz'
        ({"f": "xml"}, "f", "Allowed values: json, html"),
        ({"datetime": "yesterday"}, "datetime", "RFC 3339"),
        ({"colour": "red"}, "colour", "Unknown query parameter 'colour'"),
        ({"bbox": "1,2,3,4", "bbox-crs": "EPSG:4326"}, "bbox-crs", "not a CRS this collection is offered in"),
    ],
)
def test_bad_items_parameters(client, lida_buildings, query, parameter, says):
    response = client.get(ITEMS, query)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == "InvalidParameterValue"
    assert body["parameter"] == parameter
    assert says in body["description"]


def test_repeated_parameter_is_rejected(client, lida_buildings):
    body = client.get(ITEMS + "?limit=1&limit=2").json()
    assert body["parameter"] == "limit" and "2 times" in body["description"]


def test_huge_limit_is_clamped_not_an_error(client, lida_buildings):
    response = client.get(ITEMS, {"limit": "9" * 5000})
    assert response.status_code == 200 and "Geoportal-Limit-Clamped" in response


@pytest.mark.parametrize("path", ["/ogc/", "/ogc/conformance", "/ogc/collections", "/ogc/collections/lida-buildings"])
def test_bad_f_and_unknown_parameters_on_metadata(client, lida_buildings, path):
    body = client.get(path, {"f": "xml"}).json()
    assert body["parameter"] == "f" and "json, html" in body["description"]
    assert client.get(path, {"foo": "1"}).json()["parameter"] == "foo"


def test_openapi_offers_json_only(client, db):
    response = client.get("/ogc/openapi", {"f": "html"})
    assert response.status_code == 400 and "Allowed values: json." in response.content.decode()
    body = client.get("/ogc/openapi", {"f": "yaml"}).json()
    assert body["parameter"] == "f" and "Allowed values: json." in body["description"]


def test_valid_datetime_is_accepted(client, lida_buildings):
    # Buildings are placed in time by construction_date; none of these has one, so none matches.
    for value in ("2024-05-01T00:00:00Z", "2024-01-01T00:00:00Z/..", "../2024-12-31", "2024-01-01"):
        response = client.get(ITEMS, {"datetime": value})
        assert response.status_code == 200 and response.json()["numberReturned"] == 0


def test_error_for_html_request_is_html(client, lida_buildings):
    response = client.get(ITEMS, {"f": "html", "limit": "abc"})
    assert response.status_code == 400 and response["Content-Type"].startswith("text/html")
