"""National collections per theme: `buildings` spans every visible city layer of the theme, ids '{city}:{fid}'."""

from __future__ import annotations

import pytest


@pytest.fixture
def buildings_in_two_cities_and_a_hidden_one(lida_buildings, names_with_accents, make_layer):
    hidden = [("h1", "POINT(23.7 52.1)", {"name": "secret"})]
    make_layer("brest", "buildings", "buildings", hidden, visibility="internal")
    return lida_buildings, names_with_accents


def test_theme_collection_spans_visible_city_layers(client, buildings_in_two_cities_and_a_hidden_one):
    doc = client.get("/ogc/collections/buildings", HTTP_ACCEPT_LANGUAGE="en").json()
    assert doc["id"] == "buildings" and doc["title"] == "Buildings"
    assert {f"http://www.opengis.net/def/crs/EPSG/0/{s}" for s in (28405, 32635)} <= set(doc["crs"])
    items = client.get("/ogc/collections/buildings/items", {"limit": 100}).json()
    ids = [f["id"] for f in items["features"]]
    assert sorted(ids) == sorted([f"lida:{fid}" for fid in ("b1", "b2", "b/3", "b4")] + [f"minsk:n{i}" for i in range(4)])
    assert items["numberMatched"] == 8
    assert "secret" not in str(items)


def test_theme_collection_item_filter_and_paging(client, buildings_in_two_cities_and_a_hidden_one):
    feature = client.get("/ogc/collections/buildings/items/lida:b2").json()
    assert feature["id"] == "lida:b2" and feature["properties"]["name"] == "School No 1"
    assert client.get("/ogc/collections/buildings/items/brest:h1").status_code == 404
    assert client.get("/ogc/collections/buildings/items/b2").status_code == 404
    found = client.get("/ogc/collections/buildings/items", {"filter": "name LIKE '%a%'"}).json()
    assert [f["id"] for f in found["features"]] == ["lida:b/3", "minsk:n1", "minsk:n3"]  # Latin a only
    seen: list[str] = []
    url: str | None = "/ogc/collections/buildings/items?limit=3"
    while url:
        page = client.get(url).json()
        seen += [f["id"] for f in page["features"]]
        url = next((x["href"].removeprefix("http://testserver") for x in page["links"] if x["rel"] == "next"), None)
    assert len(seen) == len(set(seen)) == 8


def test_superuser_sees_hidden_city_in_theme_collection(client, buildings_in_two_cities_and_a_hidden_one, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", password="x"))
    assert client.get("/ogc/collections/buildings/items/brest:h1").json()["properties"] == {"name": "secret"}


def test_theme_without_visible_layers_is_404(client, hidden_layers):
    assert client.get("/ogc/collections/utilities").status_code == 404
    assert client.get("/ogc/collections/nothing").status_code == 404


def test_theme_collection_html_pages(client, buildings_in_two_cities_and_a_hidden_one):
    page = client.get("/ogc/collections/buildings", {"f": "html"})
    assert page.status_code == 200 and "buildings" in page.content.decode()
    items = client.get("/ogc/collections/buildings/items", {"f": "html"}).content.decode()
    assert "/ogc/collections/buildings/items/lida%3Ab1?f=html" in items
    item = client.get("/ogc/collections/buildings/items/lida%3Ab1", {"f": "html"})
    assert item.status_code == 200 and "Замак" in item.content.decode()
