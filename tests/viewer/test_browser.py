"""The viewer in headless Chromium against the real /styles and /tiles endpoints and PostGIS.

Each test checks what a person would see: pixels drawn from our tiles, a layer
switched off, a feature's attributes, the language, and that nothing was
fetched from any host but the geoportal itself.
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import pytest

from tests.viewer.conftest import (
    OSM_ATTRIBUTION,
    SampleCity,
    canvas_pixels,
    hex_rgb,
    save_screenshot,
    wait_for_map,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MINSK = [27.5615, 53.9023]
CHANGED = 12  # a channel difference above this is a visible change, not antialiasing noise


def _style_layer(style: dict[str, Any], cid: str, kind: str) -> dict[str, Any]:
    return next(
        layer
        for layer in style["layers"]
        if layer.get("metadata", {}).get("geoportal:collection") == cid and layer["type"] == kind
    )


def _selection_pixels(pixels: np.ndarray) -> int:
    """Pixels of the selection outline (#0b5cad): blue well above red and green."""
    red, green, blue = (pixels[..., i].astype(int) for i in range(3))
    return int(((blue - red > 100) & (blue - green > 40)).sum())


def test_city_map_draws_buildings_from_our_tiles_and_toggles_them(live_server, browser_page, helsinki_centre: SampleCity):
    page, log = browser_page
    cid = helsinki_centre.buildings.collection_id
    page.goto(f"{live_server.url}/sample/")
    wait_for_map(page)
    style = json.loads(page.evaluate("() => JSON.stringify(window.geoportalMap.getStyle())"))
    fill = _style_layer(style, cid, "fill")["paint"]
    colour, opacity = hex_rgb(fill["fill-color"]), float(fill["fill-opacity"])

    shown = canvas_pixels(page).astype(float)[..., :3]
    save_screenshot(page, "city-buildings-shown")
    page.get_by_role("checkbox", name="Будынкі").uncheck()
    hidden = canvas_pixels(page).astype(float)[..., :3]
    save_screenshot(page, "city-buildings-hidden")

    changed = np.abs(shown - hidden).max(axis=2) > CHANGED
    assert changed.mean() > 0.02, "hiding the buildings should change a visible part of the map"
    # Where the map changed, the buildings' fill was blended over what is underneath.
    expected = opacity * colour + (1 - opacity) * hidden[changed]
    matches = np.abs(shown[changed] - expected).max(axis=1) < 10
    assert matches.mean() > 0.6, "the changed pixels should be the buildings' fill colour"
    assert any("/tiles/city/sample/" in url and url.split("?")[0].endswith(".mvt") for url in log.requests)

    page.get_by_role("checkbox", name="Будынкі").check()
    again = canvas_pixels(page).astype(float)[..., :3]
    assert (np.abs(again - shown).max(axis=2) > CHANGED).mean() < 0.001, "showing the layer again restores the map"
    log.assert_clean(live_server.url)


def test_city_map_lists_layers_and_shows_osm_attribution(live_server, browser_page, helsinki_centre: SampleCity):
    page, log = browser_page
    page.goto(f"{live_server.url}/sample/")
    wait_for_map(page)
    items = page.locator("#layer-list li")
    listed = {items.nth(i).get_attribute("data-collection") for i in range(items.count())}
    assert listed == {"sample-buildings", "sample-roads"}
    assert page.locator("#layer-list").inner_text().count("Вуліцы") == 1
    assert OSM_ATTRIBUTION in page.locator(".maplibregl-ctrl-attrib").inner_text()
    log.assert_clean(live_server.url)


def test_click_on_a_building_shows_its_attributes(live_server, browser_page, helsinki_centre: SampleCity):
    page, log = browser_page
    building = helsinki_centre.named_building
    lon, lat = building["point"]
    page.goto(f"{live_server.url}/sample/#map=17/{lat}/{lon}")  # the hash (zoom/lat/lon) overrides the fit to the city
    page.get_by_role("checkbox", name="Вуліцы").uncheck()  # a service passage runs under Porthania; hidden layers are not clicked
    wait_for_map(page)
    assert page.evaluate("() => Math.round(window.geoportalMap.getZoom())") == 17
    x, y = page.evaluate(
        "(lonlat) => { const p = window.geoportalMap.project(lonlat); return [p.x, p.y]; }", list(building["point"])
    )
    page.locator("#map canvas").click(position={"x": x, "y": y})
    panel = page.locator("#feature-body")
    panel.locator("table[data-source=record]").wait_for()  # the tile's attributes, then the full record
    save_screenshot(page, "city-feature-clicked")
    names = [row.get_attribute("data-attribute") for row in panel.locator("tr").all()]
    rows = dict(zip(names, panel.locator("td").all_inner_texts(), strict=True))
    labels = dict(zip(names, panel.locator("th").all_inner_texts(), strict=True))
    assert rows.get("name") == "Porthania", rows
    assert rows["building"] == "university"
    assert rows["addr_street"] == "Yliopistonkatu"
    # Labelled from the theme schema in the UI language (Belarusian by default); unknown attributes keep their name.
    assert labels["name"] == "Назва" and labels["building"] == "Тып будынка"
    assert labels["addr_street"] == "addr_street"
    feature_link = panel.get_by_role("link").first.get_attribute("href")
    assert feature_link.startswith("/api/feature/")
    followed = page.request.get(f"{live_server.url}{feature_link}", max_redirects=0)
    assert followed.status == 302
    assert followed.headers["location"] == f"/ogc/collections/sample-buildings/items/{building['fid'].replace('/', '%2F')}"
    assert panel.get_attribute("data-collection") == "sample-buildings"
    assert panel.get_by_role("link").last.get_attribute("href") == "/ogc/collections/sample-buildings/items"
    assert _selection_pixels(canvas_pixels(page)) > 200, "the selected building should be outlined"

    panel.get_by_role("button", name="Закрыць").click()
    assert page.locator("#feature-hint").is_visible()
    assert panel.inner_text() == ""
    assert _selection_pixels(canvas_pixels(page)) == 0
    log.assert_clean(live_server.url)


def test_click_at_low_zoom_shows_the_full_record_not_only_the_tile_attributes(
    live_server, browser_page, helsinki_centre: SampleCity
):
    """Below z15 tiles carry only what the map draws (name); the panel reads the rest from the server."""
    page, log = browser_page
    building = helsinki_centre.named_building
    lon, lat = building["point"]
    page.goto(f"{live_server.url}/sample/#map=14/{lat}/{lon}")
    page.get_by_role("checkbox", name="Вуліцы").uncheck()
    wait_for_map(page)
    x, y = page.evaluate(
        "(lonlat) => { const p = window.geoportalMap.project(lonlat); return [p.x, p.y]; }", list(building["point"])
    )
    tile_attributes = page.evaluate(
        "([x, y]) => window.geoportalMap.queryRenderedFeatures([x, y]).map((f) => Object.keys(f.properties))", [x, y]
    )
    assert ["name"] in tile_attributes, tile_attributes  # the brief tile: no building type, no address
    page.locator("#map canvas").click(position={"x": x, "y": y})
    panel = page.locator("#feature-body")
    panel.locator("table[data-source=record]").wait_for()
    names = [row.get_attribute("data-attribute") for row in panel.locator("tr").all()]
    rows = dict(zip(names, panel.locator("td").all_inner_texts(), strict=True))
    assert rows["name"] == "Porthania" and rows["building"] == "university", rows
    assert rows["addr_street"] == "Yliopistonkatu"
    log.assert_clean(live_server.url)


def _switch_language(page: Any, origin: str, lang: str, *, heading: str, buildings: str) -> None:
    """Click the `lang` link on the sample page; the UI and the layer list come back in that language."""
    page.locator(f"a[data-lang={lang}]").click()
    page.wait_for_url(re.compile(rf"^{re.escape(origin)}/sample/(#.*)?$"))
    assert page.locator("#layers-heading").inner_text() == heading
    wait_for_map(page)
    assert buildings in page.locator("#layer-list").inner_text()


def test_language_switch_changes_the_ui_and_is_remembered(live_server, browser_page, helsinki_centre: SampleCity):
    page, log = browser_page
    page.goto(f"{live_server.url}/sample/")
    assert page.locator("html").get_attribute("lang") == "be"
    assert page.locator("#layers-heading").inner_text() == "Слаі"

    _switch_language(page, live_server.url, "en", heading="Layers", buildings="Buildings")

    page.reload()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("#layers-heading").inner_text() == "Layers"

    _switch_language(page, live_server.url, "ru", heading="Слои", buildings="Здания")
    log.assert_clean(live_server.url)


def test_overview_draws_belarus_and_the_cities(live_server, browser_page, belarus_country_boundary):
    page, log = browser_page
    page.goto(f"{live_server.url}/")
    pixels = canvas_pixels(page).astype(int)
    save_screenshot(page, "overview")
    red, green, blue = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    # The country outline (#54278f) comes from our national tiles.
    purple = (blue - green > 60) & (red - green > 20)
    assert purple.sum() > 300, "the outline of Belarus should be drawn from /tiles/belarus-boundaries/"
    assert any("/tiles/belarus-boundaries/" in url for url in log.requests)
    # Minsk's circle sits at Minsk.
    x, y = page.evaluate(
        "() => { const p = window.geoportalMap.project([27.5615, 53.9023]); return [Math.round(p.x), Math.round(p.y)]; }"
    )
    r, g, b, _ = pixels[y, x]
    assert r - g > 80 and r - b > 60, f"Minsk's circle should be red, found {(r, g, b)}"

    cities = page.locator("#city-list li")
    assert cities.count() == 17
    assert page.locator("#sample-list").inner_text().startswith("Узорны горад")
    page.locator("#city-list a", has_text="Ліда").click()
    page.wait_for_url(f"{live_server.url}/lida/")
    wait_for_map(page)
    assert page.locator("h1").inner_text() == "Ліда"
    log.assert_clean(live_server.url)
