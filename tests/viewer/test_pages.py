"""The viewer pages through Django's test client: status codes, language choice, embedded data, no foreign URLs."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import resolve

from geoportal.viewer import views

pytestmark = pytest.mark.django_db

FOREIGN_URL = re.compile(r"""(?:src|href)\s*=\s*["'](?:https?:)?//""", re.IGNORECASE)


def _embedded(html: str, element_id: str) -> Any:
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html, re.S)
    assert match, f"#{element_id} is missing"
    return json.loads(match.group(1))


def _page(client: Client, path: str) -> tuple[str, Any]:
    """The page's HTML (asserting a 200) and its embedded map configuration."""
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    return html, _embedded(html, "map-config")


def test_overview_lists_the_cities_and_embeds_them_for_the_map(client: Client, cities):
    html, config = _page(client, "/")
    assert config["style_url"] == "/styles/belarus.json"
    assert _embedded(html, "map-style")["version"] == 8  # the style itself, so the map needs no style request
    by_slug = {city["slug"]: city for city in config["cities"]}
    assert set(by_slug) == set(cities)
    assert by_slug["lida"]["centre"] == pytest.approx([25.3023, 53.8916])
    assert by_slug["lida"]["population"] == cities["lida"].population
    assert by_slug["minsk"]["name"] == "Мінск"  # Belarusian by default
    assert by_slug["sample"]["is_sample"] is True
    sample_list = html[html.index('id="sample-list"') :]
    assert 'href="/sample/"' in sample_list
    assert 'href="/sample/"' not in html[html.index('id="city-list"') : html.index('id="sample-list"')]
    assert "1\u00a0992\u00a0862" in html  # Minsk's population, grouped


def test_pages_reference_nothing_on_another_host(client: Client, cities):
    for path in ("/", "/lida/", "/sample/"):
        html = client.get(path).content.decode()
        assert FOREIGN_URL.findall(html) == [], path
        assert "/static/vendor/maplibre-gl/maplibre-gl.mjs" in html
        assert "/static/vendor/maplibre-gl/maplibre-gl.css" in html


def test_maplibre_is_served_by_the_geoportal(client: Client):
    module = client.get("/static/vendor/maplibre-gl/maplibre-gl.mjs")
    assert module.status_code == 200
    assert module["Content-Type"].startswith("text/javascript")
    worker = client.get("/static/vendor/maplibre-gl/maplibre-gl-worker.mjs")
    assert worker.status_code == 200
    assert client.get("/static/viewer/city.js").status_code == 200


def test_city_page_embeds_the_style_and_extent(client: Client, cities):
    html, config = _page(client, "/lida/")
    assert config["style_url"] == "/styles/lida.json"
    style = _embedded(html, "map-style")
    assert style["metadata"]["geoportal:city"] == "lida"
    assert style["sources"]["geoportal"]["tiles"][0].startswith("http://testserver/tiles/city/lida/")
    assert config["bounds"] == pytest.approx([25.21, 53.85, 25.38, 53.93])
    assert config["city"]["name"] == "Ліда"


def test_sample_city_page_says_it_is_a_stand_in(client: Client, cities):
    html = client.get("/sample/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "central Helsinki from OpenStreetMap" in html


def test_unknown_city_is_a_404_page_listing_the_real_cities(client: Client, cities):
    response = client.get("/atlantis/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "atlantis" in html
    assert 'href="/lida/"' in html


@pytest.mark.parametrize("path", ["/Lida/", "/lida/extra/", "/-x/", "/" + "x" * 41 + "/"])
def test_paths_that_are_not_city_slugs_are_404(client: Client, cities, path):
    assert client.get(path).status_code == 404


def test_city_without_trailing_slash_redirects(client: Client, cities):
    response = client.get("/lida")
    assert (response.status_code, response["Location"]) == (301, "/lida/")


@pytest.mark.parametrize("path", ["/ogc/", "/tiles/", "/styles/", "/admin/", "/static/", "/healthz/", "/metrics/"])
def test_reserved_paths_are_never_taken_for_a_city(path):
    try:
        match = resolve(path)
    except Exception:  # Resolver404: no view at all is fine too
        return
    assert match.func is not views.city_map


def test_language_choice_is_stored_in_a_cookie_and_used(client: Client, cities):
    response = client.get("/lida/?lang=en&x=1")
    assert response.status_code == 302
    assert response["Location"] == "/lida/?x=1"
    assert response.cookies["django_language"].value == "en"
    html = client.get("/lida/").content.decode()
    assert '<html lang="en">' in html
    assert "<h1>Lida</h1>" in html
    assert ">Layers<" in html
    client.get("/?lang=ru")
    assert ">Слои<" in client.get("/lida/").content.decode()


def test_unknown_language_is_ignored(client: Client, cities):
    response = client.get("/?lang=xx")
    assert response.status_code == 302
    assert "django_language" not in response.cookies
    assert '<html lang="be">' in client.get("/").content.decode()


@pytest.mark.parametrize(("language", "heading"), [("be", "Гарады"), ("ru", "Города"), ("en", "Cities")])
def test_overview_in_each_language(client: Client, cities, language, heading):
    client.cookies["django_language"] = language
    html = client.get("/").content.decode()
    assert f"<h1>{heading}</h1>" in html
    strings = _embedded(html, "viewer-strings")
    assert isinstance(strings, dict) and all(strings.values())
