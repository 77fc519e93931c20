"""The viewer's tools in headless Chromium: search in Cyrillic and Latin, a shared URL, cursor coordinates
(checked against pyproj), geodesic measuring (checked against pyproj.Geod), opacity, export of the view,
first-render time and a tablet-size layout. Every test also checks: no console errors, no foreign request."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pyproj import Geod
from pyproj.transformer import TransformerGroup

from layers.models import Feature, Layer
from layers.search import search_index_layer
from tests.viewer.conftest import VIEWPORT, BrowserLog, SampleCity, canvas_pixels, save_screenshot, wait_for_map

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Points in central Helsinki (inside HELSINKI_CENTRE_BBOX), used for measuring and the Cyrillic street.
SENATE_SQUARE = (24.9522, 60.1693)
STREET_NEAR_SENATE = "LINESTRING(24.9440 60.1712, 24.9470 60.1720)"


def _wait_ready(page: Any) -> None:
    page.wait_for_function("() => window.geoportalReady === true", timeout=30000)
    wait_for_map(page)


def _screen(page: Any, lon: float, lat: float) -> dict[str, float]:
    x, y = page.evaluate("(p) => { const s = window.geoportalMap.project(p); return [s.x, s.y]; }", [lon, lat])
    return {"x": x, "y": y}


@pytest.fixture
def lenin_street_in_belarusian(helsinki_centre: SampleCity, make_layer: Callable[..., Layer]) -> Layer:
    """A street named in Belarusian and Russian, in the sample city, with the search index built."""
    layer = make_layer(
        "sample",
        "streets-be",
        "roads",
        [("lenina", STREET_NEAR_SENATE, {"name": "вуліца Леніна", "name:ru": "улица Ленина", "class": "secondary"})],
        title={"be": "Вуліцы (be)", "ru": "Улицы (be)", "en": "Streets (be)"},
    )
    for indexed in (layer, helsinki_centre.roads, helsinki_centre.buildings):
        search_index_layer(layer=indexed)
    return layer


def test_search_in_cyrillic_and_latin_flies_to_the_street(live_server, browser_page, lenin_street_in_belarusian: Layer):
    page, log = browser_page
    page.goto(f"{live_server.url}/sample/#map=14/60.16/24.92")
    _wait_ready(page)
    for query in ("вуліца Леніна", "улица Ленина", "vulica Lienina", "vulitsa Lyenina"):
        page.get_by_label("Пошук па назве або адрасе").fill(query)
        page.get_by_role("button", name="Шукаць").click()
        first = page.locator("#search-results button").first
        first.wait_for()
        page.wait_for_function("(q) => document.getElementById('search-results').dataset.query === q", arg=query)
        assert first.get_attribute("data-fid") == "lenina", query
        assert first.get_attribute("data-collection") == "sample-streets-be"
    save_screenshot(page, "search-results")
    page.locator("#search-results button").first.click()
    page.wait_for_function("() => window.geoportalLastPick && !window.geoportalMap.isMoving()")
    wait_for_map(page)
    lon, lat = page.evaluate("() => window.geoportalMap.getCenter().toArray()")
    assert 24.944 <= lon <= 24.947 and 60.1712 <= lat <= 60.1720, "the map should centre on the street"
    assert page.evaluate("() => window.geoportalMap.getZoom()") > 15
    save_screenshot(page, "search-picked")

    # A Latin street of the OSM sample (Finnish name), typed with a typo.
    page.get_by_label("Пошук па назве або адрасе").fill("Yliopistonkattu")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.getElementById('search-results').dataset.query === 'Yliopistonkattu'")
    assert "Yliopistonkatu" in page.locator("#search-results").inner_text()
    log.assert_clean(live_server.url)


def test_shared_url_restores_view_and_visible_layers(live_server, browser_page, helsinki_centre: SampleCity):
    page, log = browser_page
    page.goto(f"{live_server.url}/sample/#map=16/60.1700/24.9450&layers=sample-buildings")
    _wait_ready(page)
    assert page.evaluate("() => Math.round(window.geoportalMap.getZoom())") == 16
    lon, lat = page.evaluate("() => window.geoportalMap.getCenter().toArray()")
    assert abs(lon - 24.945) < 1e-3 and abs(lat - 60.17) < 1e-3
    assert page.get_by_role("checkbox", name="Будынкі").is_checked()
    assert not page.get_by_role("checkbox", name="Вуліцы").is_checked()

    page.get_by_role("checkbox", name="Вуліцы").check()
    assert "layers=sample-buildings,sample-roads" in page.url or "layers=sample-roads,sample-buildings" in page.url
    page.get_by_role("button", name="Падзяліцца відам").click()
    shared = page.locator("#share-url").input_value()
    assert shared == page.url

    # Opening the shared link in a fresh page restores the same state.
    other = page.context.new_page()
    other.goto(shared)
    _wait_ready(other)
    assert other.get_by_role("checkbox", name="Вуліцы").is_checked()
    assert other.evaluate("() => Math.round(window.geoportalMap.getZoom())") == 16
    # Switching the language keeps the view and the layers.
    other.locator("a[data-lang=en]").click()
    other.wait_for_function("() => document.documentElement.lang === 'en'")
    _wait_ready(other)
    assert "map=16/" in other.url and "sample-roads" in other.url
    assert other.get_by_role("checkbox", name="Streets").is_checked()
    other.close()
    log.assert_clean(live_server.url)


def test_cursor_coordinates_agree_with_pyproj(live_server, browser_page, cities):
    """Minsk: Gauss-Krüger zone 5 on Pulkovo 1942 (datum shift) and UTM 35N, from the browser's own maths."""
    page, log = browser_page
    page.goto(f"{live_server.url}/minsk/")
    _wait_ready(page)
    systems = json.loads(page.locator("#map-config").text_content())["crs"]
    assert {s["srid"] for s in systems} == {28405, 32635}
    points = [(27.5615, 53.9023), (27.40, 53.80), (27.70, 54.00), (24.1, 52.1)]
    for system in systems:
        projected = page.evaluate(
            "async ([points, params]) => { const m = await import('/static/viewer/crs.js');"
            " return points.map(([lon, lat]) => m.project(lon, lat, params)); }",
            [points, system["params"]],
        )
        transformer = TransformerGroup(4326, system["srid"], always_xy=True).transformers[0]
        for (lon, lat), (easting, northing) in zip(points, projected, strict=True):
            expected = transformer.transform(lon, lat)
            assert abs(easting - expected[0]) < 0.01 and abs(northing - expected[1]) < 0.01, (system["srid"], lon, lat)

    page.mouse.move(VIEWPORT["width"] - 200, 300)
    readout = page.locator("#cursor-coordinates")
    readout.wait_for()
    text = readout.inner_text()
    assert text.startswith("WGS 84:") and "Gauss-Kruger zone 5" in text and "UTM zone 35N" in text
    log.assert_clean(live_server.url)


def test_measure_distance_and_area_agree_with_the_ellipsoid(live_server, browser_page, helsinki_centre: SampleCity):
    page, log = browser_page
    page.goto(f"{live_server.url}/sample/#map=16/60.1705/24.9480")
    _wait_ready(page)
    corners = [(24.9440, 60.1690), (24.9520, 60.1690), (24.9520, 60.1720), (24.9440, 60.1720)]
    geod = Geod(ellps="WGS84")

    page.get_by_role("button", name="Вымераць адлегласць").click()
    assert page.get_by_role("button", name="Вымераць адлегласць").get_attribute("aria-pressed") == "true"
    for lon, lat in corners[:3]:
        page.locator("#map canvas").click(position=_screen(page, lon, lat))
    clicked = json.loads(page.locator("#measure-result").get_attribute("data-points"))
    expected = sum(geod.inv(*a, *b)[2] for a, b in itertools.pairwise(clicked))
    measured = float(page.locator("#measure-result").get_attribute("data-metres"))
    assert measured == pytest.approx(expected, rel=1e-4)
    assert "Адлегласць" in page.locator("#measure-result").inner_text()
    save_screenshot(page, "measure-distance")

    page.get_by_role("button", name="Вымераць плошчу").click()
    for lon, lat in corners:
        page.locator("#map canvas").click(position=_screen(page, lon, lat))
    clicked = json.loads(page.locator("#measure-result").get_attribute("data-points"))
    area, _perimeter = geod.polygon_area_perimeter([p[0] for p in clicked], [p[1] for p in clicked])
    measured_area = float(page.locator("#measure-result").get_attribute("data-square-metres"))
    assert measured_area == pytest.approx(abs(area), rel=1e-4)
    save_screenshot(page, "measure-area")
    page.keyboard.press("Escape")
    assert page.get_by_role("button", name="Вымераць плошчу").get_attribute("aria-pressed") == "false"
    log.assert_clean(live_server.url)


def test_opacity_slider_and_export_of_the_view(live_server, browser_page, helsinki_centre: SampleCity, tmp_path: Path):
    page, log = browser_page
    page.goto(f"{live_server.url}/sample/#map=17/60.1700/24.9480")
    _wait_ready(page)
    slider = page.get_by_label("Непразрыстасць: Будынкі")
    slider.focus()
    page.keyboard.press("Home")  # keyboard-usable: Home sets the range to its minimum
    opacities = page.evaluate(
        "() => window.geoportalMap.getStyle().layers"
        ".filter(l => (l.metadata || {})['geoportal:collection'] === 'sample-buildings' && l.type === 'fill')"
        ".map(l => l.paint['fill-opacity'])"
    )
    assert opacities and all(value == 0 for value in opacities)

    page.get_by_label("Спампаваць", exact=True).select_option("sample-buildings")
    page.locator("#export-format").select_option("geojson")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Спампаваць бачную частку").click()
    download = download_info.value
    assert download.suggested_filename == "sample-buildings.geojson"
    target = tmp_path / "export.geojson"
    download.save_as(target)
    exported = json.loads(target.read_text())
    west, south, east, north = page.evaluate("() => window.geoportalMap.getBounds().toArray().flat()")
    in_view = Feature.objects.filter(layer=helsinki_centre.buildings).extra(
        where=["ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))"], params=[west, south, east, north]
    )
    assert 0 < len(exported["features"]) < helsinki_centre.buildings.feature_count
    assert sorted(f["id"] for f in exported["features"]) == sorted(in_view.values_list("fid", flat=True))
    log.assert_clean(live_server.url)


def test_first_render_on_a_tablet_is_drawn_and_timed(live_server, chromium, helsinki_centre: SampleCity):
    """Tablet portrait (820×1180): the map draws from our tiles; the first-render time is printed, not asserted."""
    context = chromium.new_context(viewport={"width": 820, "height": 1180}, device_scale_factor=1, locale="de-DE")
    page = context.new_page()
    log = BrowserLog()
    page.on("request", lambda req: log.requests.append(req.url))
    page.on("console", lambda msg: log.errors.append(msg.text) if msg.type == "error" else None)
    try:
        page.goto(f"{live_server.url}/sample/")
        _wait_ready(page)
        pixels = canvas_pixels(page)
        milliseconds = page.evaluate("() => window.geoportalFirstRenderMs")
        print(f"\nfirst map render of /sample/ (tablet viewport, localhost): {milliseconds:.0f} ms")
        assert len({tuple(p) for p in pixels[::40, ::40, :3].reshape(-1, 3)}) > 3, "the map should not be blank"
        save_screenshot(page, "tablet-sample")
        # Every button and form control has an accessible name.
        unnamed = page.evaluate(
            "() => [...document.querySelectorAll('button, input:not([type=hidden]), select')]"
            ".filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim()"
            " && !e.title && !e.hidden).map(e => e.outerHTML)"
        )
        assert unnamed == []
        log.assert_clean(live_server.url)
    finally:
        context.close()
