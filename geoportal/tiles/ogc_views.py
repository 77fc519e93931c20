"""OGC API - Tiles under /ogc/: tile matrix sets, tilesets of each collection and city, and their tiles.

Paths (tile addresses in the OGC order: row = y before column = x)
    /ogc/tileMatrixSets                                   WebMercatorQuad and WorldCRS84Quad
    /ogc/tileMatrixSets/{tms}                             one definition (OGC 2D TMS 2.0 JSON)
    /ogc/collections/{cid}/tiles                          tilesets of a collection
    /ogc/collections/{cid}/tiles/{tms}                    tileset metadata
    /ogc/collections/{cid}/tiles/{tms}/{z}/{y}/{x}        a tile (same bytes, statuses, caching as /tiles/…)
    /ogc/cities/{city}/tiles[/{tms}[/{z}/{y}/{x}]]        the same for a city's composite (every visible layer)

Tiles are served in WebMercatorQuad only; WorldCRS84Quad is defined (for
clients that list schemes) and tileset lists name only WebMercatorQuad, so a
WorldCRS84Quad tileset or tile is 404 with a message saying so. Every view
goes through `layers.selectors`, so hidden layers answer like missing ones.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from geoportal.config import project_config
from geoportal.tiles import documents, views
from geoportal.tiles.views import MVT_CONTENT_TYPE
from layers.errors import NotFound
from layers.models import Layer
from layers.queryables import json_schema_of
from layers.selectors import city_get, layer_get_visible, layer_list_visible
from layers.tiles import MAX_ZOOM, layers_version

WEB_MERCATOR = "WebMercatorQuad"
CRS84 = "WorldCRS84Quad"
SERVED = (WEB_MERCATOR,)
HALF_WORLD = 20037508.3427892
STANDARD_PIXEL = 0.00028  # metres: the OGC standardized rendering pixel
METRES_PER_DEGREE = 2 * math.pi * 6378137 / 360
TMS_URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/"
REL_TILING_SCHEME = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
JSON_TYPE = "application/json"


def _tile_matrix_set(tms: str) -> dict[str, Any]:
    """The OGC 2D TMS 2.0 JSON of a known tile matrix set (256-pixel tiles, zoom 0..MAX_ZOOM)."""
    matrices = []
    for z in range(MAX_ZOOM + 1):
        if tms == WEB_MERCATOR:
            cell, width, height, origin = 2 * HALF_WORLD / 256 / 2**z, 2**z, 2**z, [-HALF_WORLD, HALF_WORLD]
            scale = cell / STANDARD_PIXEL
        else:
            cell, width, height, origin = 180 / 256 / 2**z, 2 ** (z + 1), 2**z, [-180.0, 90.0]
            scale = cell * METRES_PER_DEGREE / STANDARD_PIXEL
        matrices.append(
            {
                "id": str(z),
                "scaleDenominator": scale,
                "cellSize": cell,
                "cornerOfOrigin": "topLeft",
                "pointOfOrigin": origin,
                "tileWidth": 256,
                "tileHeight": 256,
                "matrixWidth": width,
                "matrixHeight": height,
            }
        )
    crs = "http://www.opengis.net/def/crs/EPSG/0/3857" if tms == WEB_MERCATOR else "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    axes = ["E", "N"] if tms == WEB_MERCATOR else ["Lon", "Lat"]
    title = "Google Maps Compatible for the World" if tms == WEB_MERCATOR else "CRS84 for the World"
    return {"id": tms, "title": title, "uri": TMS_URI + tms, "crs": crs, "orderedAxes": axes, "tileMatrices": matrices}


def _json(doc: dict[str, Any]) -> HttpResponse:
    response = HttpResponse(json.dumps(doc, ensure_ascii=False, separators=(",", ":")), content_type=JSON_TYPE)
    response["Cache-Control"] = "no-cache"
    return response


def _known(tms: str) -> None:
    if tms not in (WEB_MERCATOR, CRS84):
        raise NotFound(f"Tile matrix set {tms!r} is not known here; use {WEB_MERCATOR} (or see /ogc/tileMatrixSets).")


def _served(tms: str) -> None:
    _known(tms)
    if tms not in SERVED:
        raise NotFound(f"Tiles are served in {WEB_MERCATOR} only, not in {tms}; use /tiles/{WEB_MERCATOR}/….")


@require_safe
def tile_matrix_sets(request: HttpRequest) -> HttpResponse:
    sets = []
    for tms in (WEB_MERCATOR, CRS84):
        url = request.build_absolute_uri(f"/ogc/tileMatrixSets/{tms}")
        sets.append(
            {"id": tms, "title": _tile_matrix_set(tms)["title"], "uri": TMS_URI + tms, "links": [_link(url, "self", tms)]}
        )
    return _json({"tileMatrixSets": sets, "links": [_link(request.build_absolute_uri(), "self", "Tile matrix sets")]})


@require_safe
def tile_matrix_set(request: HttpRequest, tms: str) -> HttpResponse:
    _known(tms)
    return _json(_tile_matrix_set(tms))


def _link(href: str, rel: str, title: str, media_type: str = JSON_TYPE) -> dict[str, Any]:
    return {"href": href, "rel": rel, "type": media_type, "title": title}


def _tilesets(request: HttpRequest, base: str, title: str) -> dict[str, Any]:
    """The tileset list: one vector tileset per served tile matrix set."""
    entries = []
    for tms in SERVED:
        entries.append(
            {
                "title": f"{title} ({tms})",
                "dataType": "vector",
                "crs": _tile_matrix_set(tms)["crs"],
                "tileMatrixSetURI": TMS_URI + tms,
                "links": [
                    _link(request.build_absolute_uri(f"{base}/{tms}"), "self", f"Tileset in {tms}"),
                    _link(request.build_absolute_uri(f"/ogc/tileMatrixSets/{tms}"), REL_TILING_SCHEME, tms),
                ],
            }
        )
    return {"tilesets": entries, "links": [_link(request.build_absolute_uri(base), "self", "Tilesets")]}


def _tileset(
    request: HttpRequest, *, base: str, tms: str, title: str, layers: Sequence[Layer], version: str, bounds: Sequence[float]
) -> dict[str, Any]:
    """Tileset metadata: the tile URL template (version-pinned, like TileJSON's), layers and zoom ranges."""
    themes = project_config().themes
    vector_layers = [documents.vector_layer(layer, themes) for layer in layers]
    template = request.build_absolute_uri(f"{base}/{tms}") + "/{tileMatrix}/{tileRow}/{tileCol}" + f"?v={version}"
    return {
        "title": title,
        "dataType": "vector",
        "crs": _tile_matrix_set(tms)["crs"],
        "tileMatrixSetURI": TMS_URI + tms,
        "boundingBox": {
            "lowerLeft": list(bounds[:2]),
            "upperRight": list(bounds[2:]),
            "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
        },
        "layers": [
            {
                "id": entry["id"],
                "dataType": "vector",
                "minTileMatrix": str(entry["minzoom"]),
                "maxTileMatrix": str(entry["maxzoom"]),
                "propertiesSchema": {
                    "type": "object",
                    "properties": {name: json_schema_of(kind) for name, kind in entry["fields"].items()},
                },
            }
            for entry in vector_layers
        ],
        "links": [
            _link(request.build_absolute_uri(), "self", "This tileset"),
            _link(request.build_absolute_uri(f"/ogc/tileMatrixSets/{tms}"), REL_TILING_SCHEME, tms),
            {**_link(template, "item", "Vector tiles (Mapbox Vector Tile)", MVT_CONTENT_TYPE), "templated": True},
        ],
    }


@require_safe
def collection_tilesets(request: HttpRequest, cid: str) -> HttpResponse:
    layer = layer_get_visible(cid=cid, user=request.user)
    return _json(_tilesets(request, f"/ogc/collections/{cid}/tiles", layer.title_in("en")))


@require_safe
def collection_tileset(request: HttpRequest, cid: str, tms: str) -> HttpResponse:
    layer = layer_get_visible(cid=cid, user=request.user)
    _served(tms)
    base = f"/ogc/collections/{cid}/tiles"
    doc = _tileset(
        request,
        base=base,
        tms=tms,
        title=layer.title_in("en"),
        layers=[layer],
        version=str(layer.version),
        bounds=documents.layer_bounds(layer),
    )
    return _json(doc)


@require_safe
def collection_tile(request: HttpRequest, cid: str, tms: str, z: int, y: int, x: int) -> HttpResponse:
    _served(tms)
    return views.layer_tile(request, cid, z, x, y)  # the same tile as the XYZ URL (note OGC's y/x order)


@require_safe
def city_tilesets(request: HttpRequest, city: str) -> HttpResponse:
    town = city_get(slug=city)
    return _json(_tilesets(request, f"/ogc/cities/{town.slug}/tiles", town.title("en")))


@require_safe
def city_tileset(request: HttpRequest, city: str, tms: str) -> HttpResponse:
    town = city_get(slug=city)
    _served(tms)
    layers = list(layer_list_visible(user=request.user, city=town))
    base = f"/ogc/cities/{town.slug}/tiles"
    bounds: Sequence[float] = town.extent.extent
    doc = _tileset(
        request, base=base, tms=tms, title=town.title("en"), layers=layers, version=layers_version(layers), bounds=bounds
    )
    return _json(doc)


@require_safe
def city_tile(request: HttpRequest, city: str, tms: str, z: int, y: int, x: int) -> HttpResponse:
    _served(tms)
    return views.city_tile(request, city, z, x, y)
