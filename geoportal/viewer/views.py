"""The map viewer: the national overview at `/` and one page per city at `/{city}/`.

The pages are thin HTML shells. The map itself is drawn in the browser by
MapLibre GL JS (served from our own static files) from our vector tiles; the
data the page needs (the MapLibre style — the document `/styles/{slug}.json`
serves, embedded so the first render waits for no extra request — the cities,
the city's extent, UI strings for the scripts) is embedded as JSON with `json_script`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _

from geoportal.config import project_config
from geoportal.tiles.styles import city_style_for, national_style_for
from geoportal.tiles.views import NATIONAL_STYLE
from geoportal.viewer.crs import projection_params
from layers.errors import NotFound
from layers.models import City
from layers.selectors import city_get, city_list

# Bounding box of Belarus (lon/lat), generous: the overview map opens on it.
BELARUS_BOUNDS = (23.1, 51.2, 32.8, 56.2)
LANGUAGE_PARAMETER = "lang"


def overview(request: HttpRequest) -> HttpResponse:
    if redirect := _remember_language_choice(request):
        return redirect
    language = translation.get_language()
    cities = [_city_summary(city, language) for city in city_list()]
    context = {
        "cities": [c for c in cities if not c["is_sample"]],
        "sample_cities": [c for c in cities if c["is_sample"]],
        "map_config": {
            "style_url": f"/styles/{NATIONAL_STYLE}.json",
            "bounds": BELARUS_BOUNDS,
            "cities": cities,
            "language": language,
            "api": {"search": "/api/search"},
        },
        "map_style": national_style_for(request)[0],
        "ui_strings": _ui_strings(),
    }
    return render(request, "viewer/overview.html", context)


def city_map(request: HttpRequest, city: str) -> HttpResponse:
    if redirect := _remember_language_choice(request):
        return redirect
    language = translation.get_language()
    try:
        found = city_get(slug=city)
    except NotFound:
        known = [_city_summary(c, language) for c in city_list()]
        return render(request, "viewer/city_not_found.html", {"slug": city, "cities": known}, status=404)
    summary = _city_summary(found, language)
    context = {
        "city": summary,
        "map_config": {
            "style_url": f"/styles/{found.slug}.json",
            "bounds": found.extent.extent,
            "city": summary,
            "language": language,
            "crs": _local_crs(found),
            "themes": _theme_schema(language),
            "api": {"search": "/api/search", "export": "/api/export", "identify": "/api/identify"},
        },
        "map_style": city_style_for(request, found)[0],
        "ui_strings": _ui_strings(),
    }
    return render(request, "viewer/city.html", context)


def _city_summary(city: City, language: str) -> dict[str, Any]:
    return {
        "slug": city.slug,
        "name": city.title(language),
        "oblast": str(city.oblast.get(language) or city.oblast.get("en") or ""),
        "centre": [city.centre.x, city.centre.y],
        "population": city.population,
        "population_text": _grouped(city.population, language),
        "is_sample": city.is_sample,
        "url": f"/{city.slug}/",
    }


def _local_crs(city: City) -> list[dict[str, Any]]:
    """The city's projected CRSs with the numbers the cursor read-out needs (see viewer/crs.py)."""
    systems = []
    for crs in city.local_crs or []:
        params = projection_params(int(crs["srid"]))
        if params is not None:
            systems.append({"name": crs["name"], "title": crs["title"], "srid": crs["srid"], "params": params})
    return systems


def _theme_schema(language: str) -> dict[str, Any]:
    """Theme and attribute titles in the UI language, so the identify panel labels attributes as the schema does."""

    def pick(titles: Any) -> str:
        return str(titles.get(language) or titles.get("en") or "")

    return {
        slug: {
            "title": pick(theme.title),
            "attributes": {a.name: {"title": pick(a.title), "unit": a.unit or ""} for a in theme.attributes},
        }
        for slug, theme in project_config().themes.items()
    }


def _grouped(number: int, language: str) -> str:
    """1992862 → "1 992 862" (be, ru: no-break space) or "1,992,862" (en)."""
    separator = "," if language == "en" else "\u00a0"
    return f"{number:,}".replace(",", separator)


def _remember_language_choice(request: HttpRequest) -> HttpResponse | None:
    """`?lang=xx` switches the UI language: store it in the language cookie and reload without the parameter.

    A plain link (no form, no JavaScript) is enough for the switcher, and the
    choice is remembered by the cookie that LocaleMiddleware reads first.
    """
    chosen = request.GET.get(LANGUAGE_PARAMETER)
    if chosen is None:
        return None
    rest = {key: value for key, value in request.GET.items() if key != LANGUAGE_PARAMETER}
    response = HttpResponseRedirect(request.path + (f"?{urlencode(rest)}" if rest else ""))
    if chosen in dict(settings.LANGUAGES):
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            chosen,
            max_age=365 * 24 * 3600,
            samesite="Lax",
            path=settings.LANGUAGE_COOKIE_PATH,
        )
    return response


def _ui_strings() -> dict[str, str]:
    """Strings the scripts show, translated here so that all UI text lives in the .po files."""
    return {
        "properties": _("Feature properties"),
        "no_properties": _("This feature has no attributes."),
        "open_feature": _("Open this feature in the OGC API"),
        "open_collection": _("Open the collection in the OGC API"),
        "collection": _("Collection"),
        "close": _("Close"),
        "no_layers": _("This city has no public layers yet."),
        "style_failed": _("The map style could not be loaded; showing the cities without a base map."),
        "map_failed": _("The map could not be drawn: your browser does not support WebGL."),
        "population": _("Population"),
        "click_hint": _("Click a feature on the map to see its attributes."),
        "zoom_in": _("Zoom in"),
        "zoom_out": _("Zoom out"),
        "opacity_of": _("Opacity of %(layer)s"),
        "other_theme": _("Other layers"),
        "search_empty": _("Nothing found. Try another spelling or fewer words."),
        "search_failed": _("The search is not available right now."),
        "search_results": _("Search results"),
        "features_count": _("%(count)s features"),
        "national_layer": _("All of Belarus"),
        "measure_distance": _("Distance"),
        "measure_area": _("Area"),
        "measure_hint": _("Click points on the map; press Escape to clear."),
        "metres": _("m"),
        "kilometres": _("km"),
        "square_metres": _("m²"),
        "hectares": _("ha"),
        "square_kilometres": _("km²"),
        "link_copied": _("Link copied to the clipboard."),
        "link_ready": _("Copy this link to share the current view."),
        "export_none": _("Switch on a layer to download it."),
        "export_failed": _("The download failed"),
    }
