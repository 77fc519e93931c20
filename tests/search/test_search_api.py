"""/api/search against the real PostGIS index: scripts, typos, house numbers, access rules, bad input."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client

from layers.models import Layer
from layers.search import search_features, search_index_layer

LENIN_SEGMENT_1 = "LINESTRING(24.94 60.17, 24.945 60.171)"
LENIN_SEGMENT_2 = "LINESTRING(24.945 60.171, 24.95 60.172)"


def _indexed(layer: Layer) -> Layer:
    """The layer with its search rows built, as an import leaves it."""
    search_index_layer(layer=layer)
    return layer


@pytest.fixture
def streets_in_belarusian_and_russian(make_layer: Callable[..., Layer]) -> Layer:
    """A street cut into two segments (one hit expected), named in be and ru, and a different street."""
    return _indexed(
        make_layer(
            "sample",
            "roads",
            "roads",
            [
                ("w1", LENIN_SEGMENT_1, {"name": "вуліца Леніна", "name:ru": "улица Ленина", "class": "primary"}),
                ("w2", LENIN_SEGMENT_2, {"name": "вуліца Леніна", "name:ru": "улица Ленина", "class": "primary"}),
                ("w3", "LINESTRING(24.93 60.16, 24.931 60.161)", {"name": "вуліца Гоголя"}),
            ],
        )
    )


@pytest.fixture
def addresses_with_cyrillic_letter_numbers(make_layer: Callable[..., Layer]) -> Layer:
    return _indexed(
        make_layer(
            "sample",
            "addresses",
            "addresses",
            [
                ("a1", "POINT(24.941 60.1705)", {"street": "вуліца Леніна", "housenumber": "15А"}),
                ("a2", "POINT(24.942 60.1706)", {"street": "вуліца Леніна", "housenumber": "15"}),
                ("a3", "POINT(24.943 60.1707)", {"street": "вуліца Леніна", "housenumber": "17"}),
            ],
        )
    )


@pytest.fixture
def internal_layer_with_secret_name(make_layer: Callable[..., Layer]) -> Layer:
    return _indexed(
        make_layer(
            "sample", "pipes", "utilities", [("p1", "POINT(24.94 60.17)", {"name": "Сакрэтная труба"})], visibility="internal"
        )
    )


def _search(client: Client, **params: Any) -> dict[str, Any]:
    response = client.get("/api/search", params)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/geo+json")
    return response.json()


@pytest.mark.parametrize("spelling", ["вуліца Леніна", "улица Ленина", "vulica Lienina", "vulitsa Lyenina", "Leninа", "lenina"])
def test_every_script_finds_lenin_street_once(client: Client, streets_in_belarusian_and_russian: Layer, spelling: str) -> None:
    body = _search(client, q=spelling, city="sample")
    first = body["features"][0]
    assert first["properties"]["collection"] == "sample-roads"
    assert first["properties"]["label"] in ("вуліца Леніна", "улица Ленина")
    assert first["properties"]["matches"] == 2  # the two segments are one street
    assert first["properties"]["layer_title"]["en"] == "roads"
    assert first["bbox"] == pytest.approx([24.94, 60.17, 24.95, 60.172])
    lon, lat = first["geometry"]["coordinates"]
    assert 24.94 <= lon <= 24.95 and 60.17 <= lat <= 60.172
    assert all(f["properties"]["label"] != "вуліца Гоголя" for f in body["features"])


def test_a_typo_still_finds_the_street(client: Client, streets_in_belarusian_and_russian: Layer) -> None:
    body = _search(client, q="ulitsa Lennina", city="sample")
    assert body["features"][0]["properties"]["label"] in ("вуліца Леніна", "улица Ленина")


def test_house_number_in_either_script_finds_the_same_address(
    client: Client, addresses_with_cyrillic_letter_numbers: Layer
) -> None:
    for query in ("Леніна 15А", "Lenina 15A", "vulica Lienina 15a", "ул. Ленина, 15-А"):
        first = _search(client, q=query, city="sample")["features"][0]
        assert first["properties"]["fid"] == "a1", query
        assert first["links"][0]["href"] == "/ogc/collections/sample-addresses/items/a1"


def test_search_only_sees_layers_the_caller_may_see(
    client: Client, admin_user: Any, internal_layer_with_secret_name: Layer
) -> None:
    assert _search(client, q="Сакрэтная труба")["features"] == []
    # The same SQL with a user who may read internal layers (layers.access decides, inside the query).
    assert [hit.fid for hit in search_features(query="Сакрэтная труба", user=admin_user)] == ["p1"]


def test_city_filter_and_limit(client: Client, streets_in_belarusian_and_russian: Layer) -> None:
    assert _search(client, q="Leninа", city="minsk")["features"] == []
    assert _search(client, q="vulica", city="sample", limit=1)["numberReturned"] == 1


def test_reindex_command_rebuilds_rows(make_layer: Callable[..., Layer]) -> None:
    layer = make_layer(
        "sample", "buildings", "buildings", [("b1", "POINT(24.9 60.1)", {"name": "Ратуша", "address": "пл. Свабоды 1"})]
    )
    call_command("reindex_search", "--collection", "sample-buildings")
    with connection.cursor() as cursor:
        cursor.execute("SELECT key, label FROM layers_searchentry WHERE layer_id = %s ORDER BY key", [layer.id])
        assert cursor.fetchall() == [("pl svabody 1", "пл. Свабоды 1"), ("ratusa", "Ратуша")]


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({}, "q"),
        ({"q": " "}, "q"),
        ({"q": "a"}, "q"),
        ({"q": "x" * 300}, "q"),
        ({"q": "Lenina", "limit": "0"}, "limit"),
        ({"q": "Lenina", "limit": "many"}, "limit"),
        ({"q": "Lenina", "colour": "red"}, "colour"),
    ],
)
def test_bad_search_parameters_answer_400_naming_them(
    client: Client, cities: Any, params: dict[str, str], parameter: str
) -> None:
    response = client.get("/api/search", params)
    assert response.status_code == 400
    assert response.json()["code"] == "InvalidParameterValue"
    assert response.json()["parameter"] == parameter


def test_unknown_city_is_404(client: Client, cities: Any) -> None:
    response = client.get("/api/search", {"q": "Lenina", "city": "atlantis"})
    assert response.status_code == 404
    assert response.json()["code"] == "NotFound"


@pytest.fixture
def lenin_streets_in_two_cities(make_layer: Callable[..., Layer], streets_in_belarusian_and_russian: Layer) -> Layer:
    """A Lenin street in Minsk too (the sample city has one), and a national layer with a Lenin name."""
    minsk = make_layer(
        "minsk",
        "roads",
        "roads",
        [("m1", "LINESTRING(27.55 53.90, 27.56 53.905)", {"name": "вуліца Леніна", "class": "primary"})],
    )
    _indexed(make_layer(None, "districts", "boundaries", [("d1", "POINT(27.0 53.0)", {"name": "Ленінскі раён"})]))
    return _indexed(minsk)


def test_without_city_the_search_spans_every_city_and_names_each(client: Client, lenin_streets_in_two_cities: Layer) -> None:
    for query in ("вуліца Леніна", "vulica Lienina"):
        hits = _search(client, q=query)["features"]
        by_collection = {hit["properties"]["collection"]: hit["properties"] for hit in hits}
        assert {"sample-roads", "minsk-roads"} <= set(by_collection), query
        assert by_collection["minsk-roads"]["city"] == "minsk"
        assert by_collection["minsk-roads"]["city_name"] == {"be": "Мінск", "ru": "Минск", "en": "Minsk"}
        assert by_collection["sample-roads"]["city"] == "sample"
    national = _search(client, q="Ленінскі раён")["features"][0]["properties"]
    assert national["collection"] == "belarus-districts"
    assert national["city"] is None and national["city_name"] is None
    # With a city, only that city's layers.
    assert {h["properties"]["city"] for h in _search(client, q="вуліца Леніна", city="minsk")["features"]} == {"minsk"}
