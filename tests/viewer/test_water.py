"""Water in the basemap: the water theme's layers are drawn beneath boundaries, buildings and roads — in the
city style (city and national layers in one order), in the national style, and on the overview map."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from django.test import Client

from layers.models import Layer
from tests.viewer.conftest import canvas_pixels, hex_rgb, save_screenshot

SQUARE = "POLYGON((24.944 60.170, 24.946 60.170, 24.946 60.171, 24.944 60.171, 24.944 60.170))"
STREET = "LINESTRING(24.940 60.1705, 24.950 60.1705)"
# A lake-sized test polygon north of Minsk (not a real lake's outline): about 30 × 20 px on the overview map.
TEST_LAKE = "POLYGON((27.3 54.3, 27.7 54.3, 27.7 54.5, 27.3 54.5, 27.3 54.3))"


@pytest.fixture
def city_with_water_under_everything(make_layer: Callable[..., Layer]) -> dict[str, Layer]:
    """Sample-city water, buildings and roads, and national boundaries and water: every kind of neighbour."""
    return {
        "roads": make_layer("sample", "roads", "roads", [("r1", STREET, {"class": "primary"})]),
        "buildings": make_layer("sample", "buildings", "buildings", [("b1", SQUARE, {})]),
        "water": make_layer("sample", "water", "water", [("w1", SQUARE, {"kind": "lake", "name": "Töölönlahti"})]),
        "country": make_layer(None, "country", "boundaries", [("c1", SQUARE, {"kind": "country"})]),
        "national_water": make_layer(None, "lakes", "water", [("l1", SQUARE, {"kind": "lake"})]),
    }


def _collections_in_draw_order(style: dict[str, Any]) -> list[str]:
    order: list[str] = []
    for layer in style["layers"]:
        cid = layer.get("metadata", {}).get("geoportal:collection")
        if cid and cid not in order:
            order.append(cid)
    return order


def _embedded_style(client: Client, path: str) -> dict[str, Any]:
    html = client.get(path).content.decode()
    match = re.search(r'<script id="map-style" type="application/json">(.*?)</script>', html, re.S)
    assert match, f"{path} embeds no style"
    return json.loads(match.group(1))


@pytest.mark.django_db
def test_city_style_draws_water_first(client: Client, city_with_water_under_everything: dict[str, Layer]) -> None:
    for style in (client.get("/styles/sample.json").json(), _embedded_style(client, "/sample/")):
        assert _collections_in_draw_order(style) == [
            "belarus-lakes",  # national water, then the city's water: both under every other layer
            "sample-water",
            "belarus-country",
            "sample-buildings",
            "sample-roads",
        ]
        assert style["layers"][0]["id"] == "background"
        water_fill = next(layer for layer in style["layers"] if layer["id"] == "sample-water:fill")
        assert water_fill["source"] == "geoportal" and water_fill["source-layer"] == "sample-water"


@pytest.mark.django_db
def test_national_style_draws_water_under_the_boundaries(client: Client, city_with_water_under_everything: Any) -> None:
    for style in (client.get("/styles/belarus.json").json(), _embedded_style(client, "/")):
        assert _collections_in_draw_order(style) == ["belarus-lakes", "belarus-country"]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_overview_draws_national_water_and_boundaries(
    live_server, browser_page, belarus_country_boundary: Layer, make_layer: Callable[..., Layer]
) -> None:
    make_layer(None, "lakes", "water", [("test-lake", TEST_LAKE, {"kind": "lake", "name": "test lake"})])
    page, log = browser_page
    page.goto(f"{live_server.url}/")
    pixels = canvas_pixels(page).astype(float)[..., :3]
    save_screenshot(page, "overview-water")
    x, y = page.evaluate(
        "() => { const p = window.geoportalMap.project([27.5, 54.4]); return [Math.round(p.x), Math.round(p.y)]; }"
    )
    style = json.loads(page.evaluate("() => JSON.stringify(window.geoportalMap.getStyle())"))
    fill = next(layer for layer in style["layers"] if layer["id"] == "belarus-lakes:fill")["paint"]["fill-color"]
    patch = pixels[y - 3 : y + 4, x - 3 : x + 4].reshape(-1, 3)
    assert (np.abs(patch - hex_rgb(fill)).max(axis=1) < 12).mean() > 0.8, "the test lake should be drawn in water colour"
    assert any("/tiles/belarus-lakes/" in url for url in log.requests)
    assert any("/tiles/belarus-boundaries/" in url for url in log.requests)
    log.assert_clean(live_server.url)
