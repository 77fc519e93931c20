"""Search on the national overview (`/`) in headless Chromium: every city's public layers, in Cyrillic and
Latin; each result names its city, and choosing one opens that city's map at the feature."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from layers.models import Layer
from layers.search import search_index_layer
from tests.viewer.conftest import save_screenshot, wait_for_map

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MINSK_LENIN = "LINESTRING(27.5560 53.8990, 27.5600 53.9010)"
SAMPLE_LENIN = "LINESTRING(24.9440 60.1712, 24.9470 60.1720)"


@pytest.fixture
def lenin_street_in_minsk_and_the_sample_city(make_layer: Callable[..., Layer]) -> dict[str, Layer]:
    """The same street name in two cities, plus a non-public layer with that name that must stay hidden."""
    made = {
        "minsk": make_layer("minsk", "streets", "roads", [("m1", MINSK_LENIN, {"name": "вуліца Леніна", "class": "primary"})]),
        "sample": make_layer("sample", "streets", "roads", [("s1", SAMPLE_LENIN, {"name": "вуліца Леніна", "class": "primary"})]),
        "hidden": make_layer(
            "hrodna",
            "streets",
            "roads",
            [("h1", "LINESTRING(23.8 53.67, 23.81 53.68)", {"name": "вуліца Леніна"})],
            visibility="internal",
        ),
    }
    for layer in made.values():
        search_index_layer(layer=layer)
    return made


def _results(page: Any, query: str) -> list[dict[str, str]]:
    page.get_by_label("Пошук па ўсіх гарадах па назве або адрасе").fill(query)
    page.get_by_role("button", name="Шукаць").click()
    page.wait_for_function("(q) => document.getElementById('search-results').dataset.query === q", arg=query)
    buttons = page.locator("#search-results button")
    return [
        {"city": buttons.nth(i).get_attribute("data-city") or "", "text": buttons.nth(i).inner_text()}
        for i in range(buttons.count())
    ]


def test_overview_search_spans_the_cities_and_opens_the_chosen_one(
    live_server, browser_page, lenin_street_in_minsk_and_the_sample_city: dict[str, Layer]
) -> None:
    page, log = browser_page
    page.goto(f"{live_server.url}/")
    wait_for_map(page)
    for query in ("вуліца Леніна", "улица Ленина", "vulica Lienina", "vulitsa Lyenina"):
        results = _results(page, query)
        assert sorted(r["city"] for r in results) == ["minsk", "sample"], query  # never the internal Hrodna layer
        minsk = next(r for r in results if r["city"] == "minsk")
        assert "Мінск" in minsk["text"] and "вуліца Леніна" in minsk["text"]
    save_screenshot(page, "overview-search-results")

    page.locator('#search-results button[data-city="minsk"]').click()
    page.wait_for_url(f"{live_server.url}/minsk/#map=**")
    page.wait_for_function("() => window.geoportalReady === true", timeout=30000)
    wait_for_map(page)
    lon, lat = page.evaluate("() => window.geoportalMap.getCenter().toArray()")
    assert 27.556 <= lon <= 27.560 and 53.899 <= lat <= 53.901, "Minsk's map should open at the street"
    assert page.evaluate("() => window.geoportalMap.getZoom()") > 14
    assert page.locator("h1").inner_text() == "Мінск"
    save_screenshot(page, "overview-search-opened-minsk")
    log.assert_clean(live_server.url)


def test_overview_search_in_english_names_the_city_in_english(
    live_server, browser_page, lenin_street_in_minsk_and_the_sample_city: dict[str, Layer]
) -> None:
    page, log = browser_page
    page.goto(f"{live_server.url}/?lang=en")
    page.get_by_label("Search all cities by name or address").fill("Lenina")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.getElementById('search-results').dataset.query === 'Lenina'")
    texts = page.locator("#search-results button").all_inner_texts()
    assert any("Minsk" in text for text in texts), texts
    log.assert_clean(live_server.url)
