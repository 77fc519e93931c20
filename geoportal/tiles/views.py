"""XYZ vector tiles, TileJSON and MapLibre styles.

Tiles
    `/tiles/{cid}/{z}/{x}/{y}.mvt` (one collection) and
    `/tiles/city/{city}/{z}/{x}/{y}.mvt` (every layer of the city the caller
    may see, one MVT layer each, named by collection id).

    - 200 with `application/vnd.mapbox-vector-tile` when the tile holds features;
    - 204 No Content, consistently, when it holds none (outside the data, or
      outside the theme's zoom range) — MapLibre and QGIS treat 204 as an empty tile;
    - 304 when `If-None-Match` carries the current ETag;
    - 400 (OGC exception naming `z`, `x` or `y`) for a tile outside WebMercatorQuad;
    - 404, identical for a missing and a hidden collection.

Caching that is never stale: the ETag is `layers.tiles.tile_key`, a hash of
(layer ids, layer versions, theme rules, z, x, y, render revision), and the
same key names the tile in the server-side file cache (`geoportal.tiles.cache`),
which holds it pre-compressed: brotli or gzip by Accept-Encoding, with
`Vary: Accept-Encoding`. A tile URL may carry `?v=<version>` (TileJSON and styles hand out such
URLs); when `v` is the current version the response may be cached forever
(`immutable`), otherwise for TILE_CACHE_SECONDS. Responses containing a
non-public layer are `private` so no shared cache keeps them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.urls import get_script_prefix
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_safe

from geoportal.conditional import etag_matches
from geoportal.config import project_config
from geoportal.tiles import documents
from geoportal.tiles.cache import IDENTITY, cached_tile, negotiate
from layers.models import Layer, Visibility
from layers.selectors import city_get, city_list, layer_get_visible, layer_list_visible
from layers.tiles import TileSource, layers_version, tile_check, tile_key

MVT_CONTENT_TYPE = "application/vnd.mapbox-vector-tile"
IMMUTABLE = "max-age=31536000, immutable"
NATIONAL_STYLE = "belarus"


def _short_max_age() -> int:
    return int(settings.GEOPORTAL.get("TILE_CACHE_SECONDS", 60))


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(get_script_prefix())


def _scope(layers: Sequence[Layer]) -> str:
    return "public" if all(layer.visibility == Visibility.PUBLIC for layer in layers) else "private"


def tile_sources(layers: Sequence[Layer]) -> list[TileSource]:
    themes = project_config().themes
    return [TileSource.for_layer(layer, themes.get(layer.theme)) for layer in layers]


def tile_response(request: HttpRequest, *, layers: Sequence[Layer], version: str, z: int, x: int, y: int) -> HttpResponse:
    sources = tile_sources(layers)
    key = tile_key(sources=sources, z=z, x=x, y=y)
    lifetime = IMMUTABLE if request.GET.get("v") == version else f"max-age={_short_max_age()}"
    wanted = negotiate(request.headers.get("Accept-Encoding", ""))
    response: HttpResponse
    if etag_matches(request, f'"{key}"'):
        response = HttpResponseNotModified()
        response["ETag"] = f'"{key}"' if wanted == IDENTITY else f'W/"{key}"'
        patch_vary_headers(response, ["Accept-Encoding"])
    else:
        body, coding = cached_tile(sources=sources, z=z, x=x, y=y, coding=wanted)
        response = _tile_body_response(body, coding=coding, key=key)
    response["Cache-Control"] = f"{_scope(layers)}, {lifetime}"
    return response


def _tile_body_response(body: bytes, *, coding: str, key: str) -> HttpResponse:
    """200 with the tile in `coding` (GZipMiddleware leaves a Content-Encoding alone), or 204 when empty.

    A compressed body carries the weak form of the ETag: the same tile, other bytes.
    """
    if not body:
        response = HttpResponse(status=204)
        del response["Content-Type"]
        response["ETag"] = f'"{key}"'
        return response
    response = HttpResponse(body, content_type=MVT_CONTENT_TYPE)
    if coding != IDENTITY:
        response["Content-Encoding"] = coding
    response["ETag"] = f'"{key}"' if coding == IDENTITY else f'W/"{key}"'
    patch_vary_headers(response, ["Accept-Encoding"])
    return response


@require_safe
def layer_tile(request: HttpRequest, cid: str, z: int, x: int, y: int) -> HttpResponse:
    """One collection's tile (see the module docstring for statuses and caching)."""
    tile_check(z=z, x=x, y=y)
    layer = layer_get_visible(cid=cid, user=request.user)
    return tile_response(request, layers=[layer], version=str(layer.version), z=z, x=x, y=y)


@require_safe
def city_tile(request: HttpRequest, city: str, z: int, x: int, y: int) -> HttpResponse:
    """All layers of a city the caller may see, one MVT layer each (see the module docstring)."""
    tile_check(z=z, x=x, y=y)
    layers = list(layer_list_visible(user=request.user, city=city_get(slug=city)))
    return tile_response(request, layers=layers, version=layers_version(layers), z=z, x=x, y=y)


def _json_response(request: HttpRequest, doc: dict[str, Any], *, layers: Sequence[Layer]) -> HttpResponse:
    """JSON that clients revalidate on every use (cheap: ETag over the body, 304 when unchanged)."""
    body = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    response = HttpResponseNotModified() if etag_matches(request, etag) else HttpResponse(body, content_type="application/json")
    response["ETag"] = etag
    response["Cache-Control"] = f"{_scope(layers)}, no-cache"
    return response


@require_safe
def layer_tilejson(request: HttpRequest, cid: str) -> HttpResponse:
    layer = layer_get_visible(cid=cid, user=request.user)
    tiles = documents.tile_url(_base_url(request), f"tiles/{cid}", str(layer.version))
    doc = documents.tilejson(
        name=cid, tiles=tiles, layers=[layer], themes=project_config().themes, bounds=documents.layer_bounds(layer)
    )
    return _json_response(request, doc, layers=[layer])


@require_safe
def city_tilejson(request: HttpRequest, city: str) -> HttpResponse:
    town = city_get(slug=city)
    layers = list(layer_list_visible(user=request.user, city=town))
    tiles = documents.tile_url(_base_url(request), f"tiles/city/{town.slug}", layers_version(layers))
    bounds: tuple[float, float, float, float] = town.extent.extent  # type: ignore[assignment]
    doc = documents.tilejson(name=town.slug, tiles=tiles, layers=layers, themes=project_config().themes, bounds=bounds)
    return _json_response(request, doc, layers=layers)


def _public_national_layers() -> list[Layer]:
    return list(layer_list_visible(user=None).filter(city__isnull=True))


@require_safe
def style(request: HttpRequest, city: str) -> HttpResponse:
    """MapLibre style v8 of a city (`/styles/{city}.json`) or the national overview (`/styles/belarus.json`)."""
    themes = project_config().themes
    national = _public_national_layers()
    if city == NATIONAL_STYLE:
        boxes = [c.extent.extent for c in city_list(include_sample=False)]
        fallback = documents.union_bounds(boxes)  # type: ignore[arg-type]
        doc = documents.national_style(base=_base_url(request), national=national, themes=themes, fallback_bounds=fallback)
        return _json_response(request, doc, layers=national)
    town = city_get(slug=city)
    layers = list(layer_list_visible(user=request.user, city=town))
    doc = documents.city_style(
        base=_base_url(request), city=town, layers=layers, version=layers_version(layers), national=national, themes=themes
    )
    return _json_response(request, doc, layers=[*layers, *national])
