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
(layer ids, layer versions, theme rules, z, x, y, render revision); the tile
set key (the same without z, x, y) and z/x/y name the tile in the server-side
file cache (`geoportal.tiles.cache`), which holds it pre-compressed: brotli or
gzip by Accept-Encoding, with `Vary: Accept-Encoding`. nginx serves anonymous
unversioned tiles from that cache itself (`geoportal.tiles.public`). A tile
URL may carry `?v=<version>` (TileJSON and styles hand out such URLs); when
`v` is the current version the response may be cached forever (`immutable`),
otherwise for TILE_CACHE_SECONDS. Responses containing a non-public layer are
`private` so no shared cache keeps them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_safe

from geoportal.conditional import etag_matches
from geoportal.config import project_config
from geoportal.tiles import anonymous, documents
from geoportal.tiles.cache import IDENTITY, TileAddress, cached_tile, negotiate, tile_sources
from geoportal.tiles.public import composite_name, heal_public_entry
from geoportal.tiles.styles import base_url, city_style_for, national_style_for
from layers.models import Layer, Visibility
from layers.selectors import city_get, layer_get_visible, layer_list_visible
from layers.tiles import layers_version, tile_check, tile_key_in, tileset_key

MVT_CONTENT_TYPE = "application/vnd.mapbox-vector-tile"
IMMUTABLE = "max-age=31536000, immutable"
NATIONAL_STYLE = "belarus"


def _short_max_age() -> int:
    seconds = settings.GEOPORTAL.get("TILE_CACHE_SECONDS", 60)
    return int(seconds) if isinstance(seconds, int | str) else 60


def _scope(layers: Sequence[Layer]) -> str:
    return "public" if all(layer.visibility == Visibility.PUBLIC for layer in layers) else "private"


def tile_response(
    request: HttpRequest,
    *,
    layers: Sequence[Layer],
    version: str,
    z: int,
    x: int,
    y: int,
    public_name: str,
    rendered: bytes | None = None,
) -> HttpResponse:
    """The tile response; `public_name` is its entry in the public tree (`<cid>` or `city/<city>`).

    `rendered`: the tile of `layers` already rendered (`geoportal.tiles.anonymous`), or None.
    """
    sources = tile_sources(layers)
    tile = TileAddress(tileset_key(sources), z, x, y)
    key = tile_key_in(tile.set_key, z=z, x=x, y=y)
    scope = _scope(layers)
    lifetime = IMMUTABLE if request.GET.get("v") == version else f"max-age={_short_max_age()}"
    wanted = negotiate(request.headers.get("Accept-Encoding", ""))
    response: HttpResponse
    if etag_matches(request, f'"{key}"'):
        response = HttpResponseNotModified()
        response["ETag"] = f'"{key}"' if wanted == IDENTITY else f'W/"{key}"'
        patch_vary_headers(response, ["Accept-Encoding"])
    else:
        body, coding = cached_tile(sources=sources, tile=tile, coding=wanted, rendered=rendered)
        response = _tile_body_response(body, coding=coding, key=key)
    if layers and scope == "public" and not request.user.is_authenticated:
        # What nginx would serve from disk for this URL: make sure it is this very set.
        heal_public_entry(public_name, tile.set_key)
    response["Cache-Control"] = f"{scope}, {lifetime}"
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
    found = anonymous.layer_and_tile(request, cid=cid, z=z, x=x, y=y)
    if found is not None:
        layer, rendered = found
    else:
        layer, rendered = layer_get_visible(cid=cid, user=request.user), None
        anonymous.remember(request, layer)
    return tile_response(request, layers=[layer], version=str(layer.version), z=z, x=x, y=y, public_name=cid, rendered=rendered)


@require_safe
def city_tile(request: HttpRequest, city: str, z: int, x: int, y: int) -> HttpResponse:
    """All layers of a city the caller may see, one MVT layer each (see the module docstring)."""
    tile_check(z=z, x=x, y=y)
    layers = list(layer_list_visible(user=request.user, city=city_get(slug=city)))
    version = layers_version(layers)
    return tile_response(request, layers=layers, version=version, z=z, x=x, y=y, public_name=composite_name(city))


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
    tiles = documents.tile_url(base_url(request), f"tiles/{cid}", str(layer.version))
    doc = documents.tilejson(
        name=cid, tiles=tiles, layers=[layer], themes=project_config().themes, bounds=documents.layer_bounds(layer)
    )
    return _json_response(request, doc, layers=[layer])


@require_safe
def city_tilejson(request: HttpRequest, city: str) -> HttpResponse:
    town = city_get(slug=city)
    layers = list(layer_list_visible(user=request.user, city=town))
    tiles = documents.tile_url(base_url(request), f"tiles/city/{town.slug}", layers_version(layers))
    bounds: tuple[float, float, float, float] = town.extent.extent  # type: ignore[assignment]
    doc = documents.tilejson(name=town.slug, tiles=tiles, layers=layers, themes=project_config().themes, bounds=bounds)
    return _json_response(request, doc, layers=layers)


@require_safe
def style(request: HttpRequest, city: str) -> HttpResponse:
    """MapLibre style v8 of a city (`/styles/{city}.json`) or the national overview (`/styles/belarus.json`)."""
    if city == NATIONAL_STYLE:
        doc, shown = national_style_for(request)
    else:
        doc, shown = city_style_for(request, city_get(slug=city))
    return _json_response(request, doc, layers=shown)
