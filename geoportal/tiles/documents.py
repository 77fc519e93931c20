"""TileJSON 3.0.0 and MapLibre style (spec v8) documents for the tile endpoints.

Pure functions of registry objects and theme configuration: the views pass in
the layers the caller may see and the absolute base URL, so nothing here
queries the database or checks permissions.
"""

from __future__ import annotations

import copy
import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

from config.loader import ThemeConfig
from geoportal.env import Basemap
from layers.models import City, Layer
from layers.tiles import MAX_ZOOM

WORLD_BOUNDS = (-180.0, -85.0511, 180.0, 85.0511)
STYLE_MAXZOOM = 16  # tiles are served to this zoom in styles; MapLibre overzooms beyond
BACKGROUND = "#f2efe9"
# Draw order of geometry kinds: areas under lines under points.
_GEOMETRY_ORDER = {"MultiPolygon": 0, "Polygon": 0, "MultiLineString": 1, "LineString": 1, "MultiPoint": 2, "Point": 2}
# Themes drawn beneath all others (the basemap's ground): water under boundaries, buildings and roads.
_UNDERLAY_THEMES = ("water",)
BASEMAP_SOURCE = "basemap"

Themes = Mapping[str, ThemeConfig]


def tile_url(base: str, path: str, version: str) -> str:
    """Absolute XYZ tile URL template; `base` ends with '/'. Braces stay literal for clients to fill in."""
    return f"{base}{path}/{{z}}/{{x}}/{{y}}.mvt?v={version}"


def layer_bounds(layer: Layer) -> tuple[float, float, float, float]:
    if layer.extent is not None:
        return tuple(layer.extent.extent)  # type: ignore[return-value]
    if layer.city is not None:
        return tuple(layer.city.extent.extent)  # type: ignore[return-value]
    return WORLD_BOUNDS


def union_bounds(boxes: Sequence[tuple[float, float, float, float]]) -> tuple[float, float, float, float]:
    if not boxes:
        return WORLD_BOUNDS
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def fit_zoom(bounds: tuple[float, float, float, float], *, viewport_tiles: float = 2.0) -> int:
    """The largest zoom at which `bounds` fit in a viewport about `viewport_tiles` 512-px tiles wide."""
    minx, miny, maxx, maxy = bounds

    def merc_y(lat: float) -> float:
        lat = max(min(lat, 85.0511), -85.0511)
        return math.asinh(math.tan(math.radians(lat)))

    spans = [(maxx - minx) / 360.0, (merc_y(maxy) - merc_y(miny)) / (2 * math.pi)]
    widest = max(spans)
    if widest <= 0:
        return STYLE_MAXZOOM
    return max(0, min(STYLE_MAXZOOM, math.floor(math.log2(viewport_tiles / widest))))


def _zoom_range(layer: Layer, themes: Themes) -> tuple[int, int]:
    theme = themes.get(layer.theme)
    return (theme.min_zoom, theme.max_zoom) if theme else (0, MAX_ZOOM)


def layer_fields(layer: Layer, theme: ThemeConfig | None) -> dict[str, str]:
    """Attribute name → type: the theme's schema first, then attributes found only in the data."""
    fields = {attribute.name: attribute.type for attribute in theme.attributes} if theme else {}
    for name, kind in (layer.fields or {}).items():
        fields.setdefault(name, str(kind))
    return fields


def vector_layer(layer: Layer, themes: Themes) -> dict[str, Any]:
    minzoom, maxzoom = _zoom_range(layer, themes)
    description = layer.abstract.get("en") or layer.title_in("en")
    return {
        "id": layer.collection_id,
        "fields": layer_fields(layer, themes.get(layer.theme)),
        "minzoom": minzoom,
        "maxzoom": maxzoom,
        "description": description,
    }


def attribution_of(layers: Sequence[Layer]) -> str | None:
    """The layers' own attributions, de-duplicated; None when no layer states one (never invented)."""
    texts = list(dict.fromkeys(layer.attribution.strip() for layer in layers if layer.attribution.strip()))
    return "; ".join(texts) or None


def tilejson(
    *, name: str, tiles: str, layers: Sequence[Layer], themes: Themes, bounds: tuple[float, float, float, float]
) -> dict[str, Any]:
    """TileJSON 3.0.0 for a tile URL serving `layers` (one vector layer each)."""
    ranges = [_zoom_range(layer, themes) for layer in layers]
    minzoom = min((r[0] for r in ranges), default=0)
    maxzoom = max((r[1] for r in ranges), default=MAX_ZOOM)
    zoom = max(minzoom, min(maxzoom, fit_zoom(bounds)))
    doc: dict[str, Any] = {
        "tilejson": "3.0.0",
        "name": name,
        "scheme": "xyz",
        "tiles": [tiles],
        "bounds": list(bounds),
        "center": [(bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2, zoom],
        "minzoom": minzoom,
        "maxzoom": maxzoom,
        "vector_layers": [vector_layer(layer, themes) for layer in layers],
    }
    attribution = attribution_of(layers)
    if attribution:
        doc["attribution"] = attribution
    return doc


def _title(layer: Layer, theme: ThemeConfig | None) -> dict[str, str]:
    fallback = dict(theme.title) if theme else {}
    return {lang: str(layer.title.get(lang) or fallback.get(lang) or layer.slug) for lang in ("be", "ru", "en")}


def style_layers(layer: Layer, theme: ThemeConfig | None, *, source: str) -> list[dict[str, Any]]:
    """The theme's style entries bound to `source` / source-layer = collection id.

    Symbol layers are left out: they need glyphs or sprites, and none are
    served locally yet (nothing may come from the internet).
    """
    if theme is None:
        return []
    cid = layer.collection_id
    metadata = {"geoportal:collection": cid, "geoportal:theme": theme.slug, "geoportal:title": _title(layer, theme)}
    entries = []
    for entry in theme.style:
        if entry["type"] == "symbol":
            continue
        styled = copy.deepcopy(dict(entry))
        styled.update({"id": f"{cid}:{entry['id']}", "source": source, "source-layer": cid, "metadata": metadata})
        styled.setdefault("minzoom", theme.min_zoom)
        styled.setdefault("maxzoom", min(theme.max_zoom + 1, MAX_ZOOM))  # MapLibre's maxzoom is exclusive
        entries.append(styled)
    return entries


def _draw_key(layer: Layer, themes: Themes) -> tuple[int, int, str, str]:
    theme = themes.get(layer.theme)
    kind = theme.geometry_type if theme else layer.geometry_type
    underlay = 0 if layer.theme in _UNDERLAY_THEMES else 1
    return (underlay, _GEOMETRY_ORDER.get(kind, 1), layer.theme, layer.slug)


def draw_order(layers: Sequence[Layer], themes: Themes) -> list[Layer]:
    """Bottom first: water, then areas, lines, points; by theme and slug within each."""
    return sorted(layers, key=lambda layer: _draw_key(layer, themes))


def _city_and_national_layers(layers: Sequence[Layer], national: Sequence[Layer], themes: Themes) -> list[dict[str, Any]]:
    """One draw order over both: the city's water lies under the national boundaries, the national
    water under the city's buildings. The sort is stable, so at equal rank national layers stay below.
    National layers draw from their own sources, the city's from the composite "geoportal" source."""
    placed = [(layer, layer.collection_id) for layer in draw_order(national, themes)]
    placed += [(layer, "geoportal") for layer in draw_order(layers, themes)]
    placed.sort(key=lambda item: _draw_key(item[0], themes)[:2])
    return [entry for layer, source in placed for entry in style_layers(layer, themes.get(layer.theme), source=source)]


def basemap_source(basemap: Basemap) -> dict[str, Any]:
    """The optional external raster basemap (GEOPORTAL_BASEMAP_URL): an XYZ source, drawn under everything."""
    source: dict[str, Any] = {"type": "raster", "tiles": [basemap.url], "tileSize": 256, "maxzoom": basemap.max_zoom}
    if basemap.attribution:
        source["attribution"] = html.escape(basemap.attribution)  # MapLibre shows attributions as HTML
    return source


def _with_basemap(sources: dict[str, Any], layers: list[Any], basemap: Basemap | None) -> tuple[dict[str, Any], list[Any]]:
    if basemap is None:
        return sources, layers
    raster = {"id": BASEMAP_SOURCE, "type": "raster", "source": BASEMAP_SOURCE}
    return {BASEMAP_SOURCE: basemap_source(basemap), **sources}, [raster, *layers]


def national_sources(base: str, layers: Sequence[Layer], themes: Themes) -> dict[str, dict[str, Any]]:
    """One vector source per national layer, using its own single-collection tile URL."""
    sources = {}
    for layer in layers:
        minzoom, maxzoom = _zoom_range(layer, themes)
        source: dict[str, Any] = {
            "type": "vector",
            "tiles": [tile_url(base, f"tiles/{layer.collection_id}", str(layer.version))],
            "minzoom": min(minzoom, STYLE_MAXZOOM),
            "maxzoom": min(maxzoom, STYLE_MAXZOOM),
            "bounds": list(layer_bounds(layer)),
        }
        if layer.attribution.strip():
            source["attribution"] = layer.attribution.strip()
        sources[layer.collection_id] = source
    return sources


def _style(name: str, *, centre: tuple[float, float], zoom: int, sources: dict[str, Any], layers: list[Any]) -> dict[str, Any]:
    background = {"id": "background", "type": "background", "paint": {"background-color": BACKGROUND}}
    return {
        "version": 8,
        "name": name,
        "center": [centre[0], centre[1]],
        "zoom": zoom,
        "sources": sources,
        "layers": [background, *layers],
    }


def city_style(
    *,
    base: str,
    city: City,
    layers: Sequence[Layer],
    version: str,
    national: Sequence[Layer],
    themes: Themes,
    basemap: Basemap | None = None,
) -> dict[str, Any]:
    """The city's map: the national basemap layers, then the city's layers from the composite tile."""
    composite: dict[str, Any] = {
        "type": "vector",
        "tiles": [tile_url(base, f"tiles/city/{city.slug}", version)],
        "minzoom": 0,
        "maxzoom": STYLE_MAXZOOM,
        "bounds": list(city.extent.extent),
    }
    attribution = attribution_of(layers)
    if attribution:
        composite["attribution"] = attribution
    sources, entries = _with_basemap(
        {"geoportal": composite, **national_sources(base, national, themes)},
        _city_and_national_layers(layers, national, themes),
        basemap,
    )
    style = _style(
        f"Geoportal — {city.title('en')}",
        centre=(city.centre.x, city.centre.y),
        zoom=fit_zoom(tuple(city.extent.extent)),  # type: ignore[arg-type]
        sources=sources,
        layers=entries,
    )
    style["metadata"] = {"geoportal:city": city.slug, "geoportal:version": version}
    return style


def national_style(
    *,
    base: str,
    national: Sequence[Layer],
    themes: Themes,
    fallback_bounds: tuple[float, float, float, float],
    basemap: Basemap | None = None,
) -> dict[str, Any]:
    """The national overview: public national layers only (water first, then boundaries …)."""
    boxes = [layer_bounds(layer) for layer in national if layer.extent is not None]
    bounds = union_bounds(boxes) if boxes else fallback_bounds
    sources, entries = _with_basemap(
        national_sources(base, national, themes), _city_and_national_layers((), national, themes), basemap
    )
    style = _style(
        "Geoportal — Belarus",
        centre=((bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2),
        zoom=fit_zoom(bounds),
        sources=sources,
        layers=entries,
    )
    style["metadata"] = {"geoportal:city": None}
    return style
