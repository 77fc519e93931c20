"""/api/feature/{id}: an internal feature id (links made when tiles carried it) → the OGC item page, through the
access check; the city page's embedded data."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.test import Client

from layers.models import Feature, Layer


def test_feature_id_redirects_to_the_ogc_item(client: Client, make_layer: Callable[..., Layer]) -> None:
    layer = make_layer("sample", "buildings", "buildings", [("way/7", "POINT(24.95 60.17)", {"name": "x"})])
    feature = Feature.objects.get(layer=layer)
    response = client.get(f"/api/feature/{feature.id}")
    assert response.status_code == 302
    assert response["Location"] == "/ogc/collections/sample-buildings/items/way%2F7"
    assert client.get(f"/api/feature/{feature.id}?f=html")["Location"].endswith("way%2F7?f=html")


def test_feature_of_an_internal_layer_answers_like_a_missing_one(client: Client, make_layer: Callable[..., Layer]) -> None:
    layer = make_layer("sample", "pipes", "utilities", [("p1", "POINT(24.95 60.17)", {})], visibility="internal")
    hidden = client.get(f"/api/feature/{Feature.objects.get(layer=layer).id}")
    missing = client.get("/api/feature/999999999")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["code"] == missing.json()["code"] == "NotFound"
    assert client.get("/api/feature/abc").status_code == 404


def test_city_page_embeds_crs_parameters_and_the_theme_schema(client: Client, cities: Any) -> None:
    html = client.get("/minsk/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    start = html.index('<script id="map-config" type="application/json">') + len(
        '<script id="map-config" type="application/json">'
    )
    config = json.loads(html[start : html.index("</script>", start)])
    by_srid = {system["srid"]: system["params"] for system in config["crs"]}
    assert by_srid[32635]["k"] == 0.9996 and by_srid[32635]["helmert"] is None
    assert by_srid[28405]["lon_0"] == 27 and by_srid[28405]["ellipsoid"]["a"] == 6378245
    assert by_srid[28405]["helmert"] is not None  # Pulkovo 1942 → WGS 84 is a datum shift
    assert config["themes"]["buildings"]["attributes"]["name"]["title"] in ("Название", "Назва", "Name")
    assert config["api"]["search"] == "/api/search"
    assert config["api"]["identify"] == "/api/identify"
