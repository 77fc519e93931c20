"""The viewer in headless Chromium against the real /styles and /tiles endpoints and PostGIS.

Each test checks what a person would see: pixels drawn from our tiles, a layer
switched off, a feature's attributes, the language, and that nothing was
fetched from any host but the geoportal itself.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import numpy as np
import pytest
import shapely
from shapely.ops import polylabel

from layers.models import Feature
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


def _sample_map_without_streets(page: Any, base: str, zoom: int, lat: float, lon: float) -> None:
    """The sample city at zoom/lat/lon (the URL hash overrides the fit to the city), streets hidden:
    a service passage runs under Porthania, and hidden layers are not clicked."""
    page.goto(f"{base}/sample/#map={zoom}/{lat}/{lon}")
    page.get_by_role("checkbox", name="Вуліцы").uncheck()
    wait_for_map(page)


def test_click_on_a_building_shows_its_attributes(live_server, browser_page, helsinki_centre: SampleCity):
    page, log = browser_page
    building = helsinki_centre.named_building
    lon, lat = building["point"]
    _sample_map_without_streets(page, live_server.url, 17, lat, lon)
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
    # Tiles carry no feature id: the panel links the OGC API item of the building /api/identify found.
    item = f"/ogc/collections/sample-buildings/items/{quote(building['fid'], safe='')}"
    assert panel.get_by_role("link").first.get_attribute("href") == item
    assert panel.get_attribute("data-fid") == building["fid"]
    followed = page.request.get(f"{live_server.url}{item}", headers={"Accept": "application/geo+json"})
    assert followed.status == 200 and json.loads(followed.body())["id"] == building["fid"]
    assert panel.get_attribute("data-collection") == "sample-buildings"
    assert panel.get_by_role("link").last.get_attribute("href") == "/ogc/collections/sample-buildings/items"
    assert not [url for url in log.requests if "/api/feature/" in url]
    _assert_selection_is_the_record(page, helsinki_centre, building["fid"])
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
    _sample_map_without_streets(page, live_server.url, 14, lat, lon)
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
    item = f"/ogc/collections/sample-buildings/items/{quote(building['fid'], safe='')}"
    assert panel.get_by_role("link").first.get_attribute("href") == item
    # The outline is the record's whole geometry, not the tile's simplified and quantised one.
    _assert_selection_is_the_record(page, helsinki_centre, building["fid"])
    assert _selection_pixels(canvas_pixels(page)) > 20, "the selected building should be outlined"
    [identify] = [url for url in log.requests if "/api/identify?" in url]
    query = parse_qs(urlsplit(identify).query)
    assert query["collection"] == ["sample-buildings"]
    zoom = page.evaluate("() => window.geoportalMap.getZoom()")
    metres_per_pixel = 40075016.686 * math.cos(math.radians(lat)) / (512 * 2**zoom)
    assert 4 * metres_per_pixel <= float(query["tolerance"][0]) <= 8 * metres_per_pixel  # a few pixels around the click
    # At the click, which was on the building's inner point (within a pixel or so).
    assert abs(float(query["lon"][0]) - lon) * 111_320 * math.cos(math.radians(lat)) < 2 * metres_per_pixel
    assert abs(float(query["lat"][0]) - lat) * 110_574 < 2 * metres_per_pixel
    log.assert_clean(live_server.url)


def _assert_selection_is_the_record(page: Any, city: SampleCity, fid: str) -> None:
    """The selection outline's source holds exactly the feature's geometry as stored in PostGIS."""
    selected = page.evaluate("() => window.geoportalMap.getSource('geoportal-selection').getData()")
    stored = shapely.from_wkt(Feature.objects.get(layer=city.buildings, fid=fid).geom.wkt)
    assert shapely.geometry.shape(selected["geometry"]).equals_exact(stored, tolerance=1e-7)


def _inner_point(geometry: Any) -> tuple[float, float]:
    largest = max(getattr(geometry, "geoms", [geometry]), key=lambda part: part.area)
    inside = polylabel(largest, tolerance=1e-6)
    return inside.x, inside.y


def test_an_answer_for_an_earlier_click_is_ignored(live_server, browser_page, helsinki_centre: SampleCity):
    """The first click's identify answer is held back until the second click's record is shown: it must change nothing."""
    page, log = browser_page
    building = helsinki_centre.named_building
    lon, lat = building["point"]
    _sample_map_without_streets(page, live_server.url, 17, lat, lon)
    others = [
        [f.fid, *_inner_point(shapely.from_wkt(f.geom.wkt))]
        for f in Feature.objects.filter(layer=helsinki_centre.buildings).exclude(fid=building["fid"]).order_by("fid")
    ]
    on_screen = page.evaluate(
        "(points) => points.map(([fid, lon, lat]) => {"
        " const s = window.geoportalMap.project([lon, lat]); return [fid, s.x, s.y]; })",
        others,
    )
    x0, y0 = page.evaluate("(p) => { const s = window.geoportalMap.project(p); return [s.x, s.y]; }", list(building["point"]))
    # Another building well inside the view, 150 px (about 45 m) or more from the first click.
    other_fid = next(fid for fid, x, y in on_screen if 100 < x < 900 and 100 < y < 600 and math.hypot(x - x0, y - y0) > 150)
    other_point = next((lon, lat) for fid, lon, lat in others if fid == other_fid)
    held: list[Any] = []
    page.route("**/api/identify?*", lambda route: held.append(route) if not held else route.continue_())
    panel = page.locator("#feature-body")
    for point in (building["point"], other_point):
        x, y = page.evaluate("(p) => { const s = window.geoportalMap.project(p); return [s.x, s.y]; }", list(point))
        page.locator("#map canvas").click(position={"x": x, "y": y})
    panel.locator("table[data-source=record]").wait_for()
    assert panel.get_attribute("data-fid") == other_fid
    # Now the first click's answer arrives (the real one, from the server): the panel stays on the second building.
    [first] = held
    assert abs(float(parse_qs(urlsplit(first.request.url).query)["lon"][0]) - lon) < 1e-4  # the first click's request
    with page.expect_response("**/api/identify?*") as answered:
        first.continue_()
    assert answered.value.ok and json.loads(answered.value.body())["features"][0]["id"] == building["fid"]
    page.evaluate("() => new Promise((resolve) => setTimeout(resolve, 200))")  # let the late answer's handler run
    assert panel.get_attribute("data-fid") == other_fid
    item = f"/ogc/collections/sample-buildings/items/{quote(other_fid, safe='')}"
    assert panel.get_by_role("link").first.get_attribute("href") == item
    assert panel.locator("a").count() == 2  # one "open feature" link, not two
    _assert_selection_is_the_record(page, helsinki_centre, other_fid)
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
