"""The OpenAPI 3.0 definition of /ogc/, built per request for the collections the caller may see.

Self-contained on purpose: every $ref points inside this document (closed
networks cannot fetch the OGC schema repository).

OGC API - Tiles paths (geoportal/tiles/ogc_views.py) are described too: tile
matrix sets, the tilesets of a collection and of a city, and the tiles
themselves (binary Mapbox Vector Tiles; 204 for an empty tile). The XYZ
/tiles/… and TileJSON URLs are not part of this API (they live outside /ogc,
for MapLibre) and are left out.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from geoportal.ogc.params import FORMATS, ITEMS_PARAMETERS
from layers.tiles import MAX_ZOOM

_REF = "#/components/"
MVT = "application/vnd.mapbox-vector-tile"
TILE_MATRIX_SETS = ["WebMercatorQuad", "WorldCRS84Quad"]


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"{_REF}{kind}/{name}"}


def _ok(description: str, media: dict[str, str]) -> dict[str, Any]:
    """A 200 response offering `media`: {media type: schema name}."""
    content = {media_type: {"schema": _ref("schemas", schema)} for media_type, schema in media.items()}
    content["text/html"] = {"schema": {"type": "string"}}
    return {"description": description, "content": content}


def _errors(*statuses: str) -> dict[str, Any]:
    return {status: _ref("responses", f"E{status}") for status in statuses}


def _get(summary: str, operation_id: str, parameters: list[str], responses: dict[str, Any], tag: str) -> dict[str, Any]:
    return {
        "get": {
            "summary": summary,
            "operationId": operation_id,
            "tags": [tag],
            "parameters": [_ref("parameters", name) for name in parameters],
            "responses": responses,
        }
    }


def _features_responses(description: str, schema: str) -> dict[str, Any]:
    """Items and item: GeoJSON (or HTML), 304 on a matching ETag, 400 and 404."""
    return {
        "200": _ok(description, {"application/geo+json": schema}),
        "304": {"description": "Not modified (If-None-Match matched the ETag)"},
        **_errors("400", "404"),
    }


def _paths() -> dict[str, Any]:
    json_doc = {"application/json": "Document"}
    return {
        "/": _get(
            "Landing page", "getLandingPage", ["f"], {"200": _ok("The landing page", json_doc), **_errors("400")}, "Capabilities"
        ),
        "/conformance": _get(
            "Conformance classes",
            "getConformance",
            ["f"],
            {"200": _ok("Conformance", {"application/json": "Conformance"}), **_errors("400")},
            "Capabilities",
        ),
        "/openapi": _get(
            "This API definition",
            "getOpenAPI",
            ["fJson"],
            {
                "200": {
                    "description": "OpenAPI 3.0",
                    "content": {"application/vnd.oai.openapi+json;version=3.0": {"schema": {"type": "object"}}},
                },
                **_errors("400"),
            },
            "Capabilities",
        ),
        "/collections": _get(
            "The feature collections",
            "getCollections",
            ["f"],
            {"200": _ok("Collections", {"application/json": "Collections"}), **_errors("400")},
            "Data",
        ),
        "/collections/{collectionId}": _get(
            "One feature collection",
            "describeCollection",
            ["collectionId", "f"],
            {"200": _ok("Collection", {"application/json": "Collection"}), **_errors("400", "404")},
            "Data",
        ),
        "/collections/{collectionId}/items": _get(
            "Features of a collection (keyset-paged: follow the 'next' link)",
            "getFeatures",
            ["collectionId", *ITEMS_PARAMETERS],  # the very list the parser accepts
            _features_responses("A page of features", "FeatureCollection"),
            "Data",
        ),
        "/collections/{collectionId}/items/{featureId}": _get(
            "One feature",
            "getFeature",
            ["collectionId", "featureId", "f", "crs"],
            _features_responses("The feature", "Feature"),
            "Data",
        ),
        "/collections/{collectionId}/queryables": _get(
            "The properties a filter or sortby may name (JSON Schema)",
            "getQueryables",
            ["collectionId", "fJson"],
            {
                "200": {"description": "Queryables", "content": {"application/schema+json": {"schema": {"type": "object"}}}},
                **_errors("400", "404"),
            },
            "Data",
        ),
    }


def _json_ok(description: str, schema: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref("schemas", schema)}}}


def _tile_responses() -> dict[str, Any]:
    return {
        "200": {
            "description": "The tile (Mapbox Vector Tile; gzip or br Content-Encoding when the client accepts it)",
            "content": {MVT: {"schema": {"type": "string", "format": "binary"}}},
        },
        "204": {"description": "The tile holds no feature"},
        "304": {"description": "Not modified (If-None-Match matched the ETag)"},
        **_errors("400", "404"),
    }


def _tile_paths() -> dict[str, Any]:
    """OGC API - Tiles: tile addresses in OGC order, row (y) before column (x); tiles in WebMercatorQuad only."""
    tile = ["tileMatrixSetId", "tileMatrix", "tileRow", "tileCol"]
    paths = {
        "/tileMatrixSets": _get(
            "The tile matrix sets", "getTileMatrixSetsList", [], {"200": _json_ok("Tile matrix sets", "TileMatrixSets")}, "Tiles"
        ),
        "/tileMatrixSets/{tileMatrixSetId}": _get(
            "One tile matrix set (OGC 2D TMS 2.0)",
            "getTileMatrixSet",
            ["tileMatrixSetId"],
            {"200": _json_ok("Tile matrix set", "TileMatrixSet"), **_errors("404")},
            "Tiles",
        ),
    }
    for owner, param, label in (("collections", "collectionId", "Collection"), ("cities", "cityId", "City")):
        base = f"/{owner}/{{{param}}}/tiles"
        what = "a collection" if owner == "collections" else "a city (every layer the caller may see)"
        paths[base] = _get(
            f"Vector tilesets of {what}",
            f"get{label}VectorTileSetsList",
            [param],
            {"200": _json_ok("Tilesets", "TileSets"), **_errors("404")},
            "Tiles",
        )
        paths[f"{base}/{{tileMatrixSetId}}"] = _get(
            f"Vector tileset of {what}",
            f"get{label}VectorTileSet",
            [param, "tileMatrixSetId"],
            {"200": _json_ok("Tileset", "TileSet"), **_errors("404")},
            "Tiles",
        )
        paths[f"{base}/{{tileMatrixSetId}}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}"] = _get(
            f"A vector tile of {what}", f"get{label}VectorTile", [param, *tile, "tileVersion"], _tile_responses(), "Tiles"
        )
    return paths


def _tile_parameters(city_ids: list[str]) -> dict[str, Any]:
    city_schema: dict[str, Any] = {"type": "string"}
    if city_ids:
        city_schema["enum"] = city_ids
    integer = {"type": "integer", "minimum": 0}
    return {
        "cityId": _path("cityId", "City slug, e.g. 'lida'.", city_schema),
        "tileMatrixSetId": _path(
            "tileMatrixSetId",
            "Tile matrix set; tiles are served in WebMercatorQuad only (WorldCRS84Quad is defined, its tiles are 404).",
            {"type": "string", "enum": TILE_MATRIX_SETS},
        ),
        "tileMatrix": _path("tileMatrix", "Zoom level.", {"type": "integer", "minimum": 0, "maximum": MAX_ZOOM}),
        "tileRow": _path("tileRow", "Row (y), 0 at the top; below 2^tileMatrix.", integer),
        "tileCol": _path("tileCol", "Column (x), 0 at the left; below 2^tileMatrix.", integer),
        "tileVersion": _query(
            "v",
            "The version from the tileset's URL template: a tile with the current version may be cached for good.",
            {"type": "string"},
        ),
    }


def _path(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": schema}


def _parameters(collection_ids: list[str]) -> dict[str, Any]:
    limits = settings.GEOPORTAL
    collection_schema: dict[str, Any] = {"type": "string"}
    if collection_ids:
        collection_schema["enum"] = collection_ids
    return {
        "f": _query(
            "f",
            "Output format; without it the Accept header decides (JSON by default).",
            {"type": "string", "enum": list(FORMATS)},
        ),
        "fJson": _query("f", "Output format.", {"type": "string", "enum": ["json"]}),
        "collectionId": {
            "name": "collectionId",
            "in": "path",
            "required": True,
            "description": "Collection id, '{city}-{layer}'.",
            "schema": collection_schema,
        },
        "featureId": {
            "name": "featureId",
            "in": "path",
            "required": True,
            "description": "The feature's stable source id.",
            "schema": {"type": "string"},
        },
        "limit": _query(
            "limit",
            f"Features per page; larger values are clamped to {limits['MAX_LIMIT']} (header Geoportal-Limit-Clamped).",
            {"type": "integer", "minimum": 1, "default": limits["DEFAULT_LIMIT"]},
        ),
        "bbox": {
            **_query(
                "bbox",
                "minLon,minLat,maxLon,maxLat (or 6 numbers with heights) in CRS84; features touching the box are included.",
                {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
            ),
            "style": "form",
            "explode": False,
        },
        "datetime": _query(
            "datetime",
            (
                "A date (2019-05-01), an RFC 3339 date-time, or an interval start/end with '..' for an open end."
                " Selects features whose time (the theme's temporal attribute: see the collection's temporal extent)"
                " intersects it; a collection without time selects none."
            ),
            {"type": "string"},
        ),
        "cursor": _query("cursor", "Opaque cursor from a 'next' or 'prev' link.", {"type": "string"}),
        "crs": _query("crs", "Output CRS, a URI from the collection's 'crs' list (CRS84 by default).", {"type": "string"}),
        "bbox-crs": _query("bbox-crs", "CRS of bbox, in its official axis order (CRS84 by default).", {"type": "string"}),
        "filter": _query("filter", "A CQL2 filter (see the collection's queryables).", {"type": "string"}),
        "filter-lang": _query(
            "filter-lang", "Encoding of filter.", {"type": "string", "enum": ["cql2-text", "cql2-json"], "default": "cql2-text"}
        ),
        "filter-crs": _query("filter-crs", "CRS of the geometries in filter (CRS84 by default).", {"type": "string"}),
        "sortby": {
            **_query("sortby", "Comma-separated queryables, each with an optional + or - prefix.", {"type": "string"}),
        },
        "properties": _query("properties", "Comma-separated names of the properties to return.", {"type": "string"}),
        "skipGeometry": _query("skipGeometry", "Leave out the geometries.", {"type": "boolean", "default": False}),
        "offset": _query(
            "offset",
            "Features to skip (after the cursor); prefer the 'next' link.",
            {"type": "integer", "minimum": 0, "default": 0},
        ),
    }


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


def _tile_schemas() -> dict[str, Any]:
    links = {"type": "array", "items": _ref("schemas", "Link")}
    tileset = {
        "type": "object",
        "required": ["dataType", "crs", "links"],
        "properties": {
            "title": {"type": "string"},
            "dataType": {"type": "string", "enum": ["vector"]},
            "crs": {"type": "string"},
            "tileMatrixSetURI": {"type": "string"},
            "boundingBox": {"type": "object"},
            "layers": {"type": "array", "items": {"type": "object", "required": ["id"]}},
            "links": links,
        },
    }
    return {
        "TileMatrixSets": {
            "type": "object",
            "required": ["tileMatrixSets"],
            "properties": {
                "tileMatrixSets": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["id", "links"],
                        "properties": {
                            "id": {"type": "string"},
                            "title": {"type": "string"},
                            "uri": {"type": "string"},
                            "links": links,
                        },
                    },
                },
                "links": links,
            },
        },
        "TileMatrixSet": {
            "type": "object",
            "required": ["id", "crs", "tileMatrices"],
            "properties": {
                "id": {"type": "string"},
                "uri": {"type": "string"},
                "crs": {"type": "string"},
                "orderedAxes": {"type": "array", "items": {"type": "string"}},
                "tileMatrices": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": [
                            "id",
                            "scaleDenominator",
                            "cellSize",
                            "pointOfOrigin",
                            "tileWidth",
                            "tileHeight",
                            "matrixWidth",
                            "matrixHeight",
                        ],
                        "properties": {
                            "id": {"type": "string"},
                            "scaleDenominator": {"type": "number"},
                            "cellSize": {"type": "number"},
                            "cornerOfOrigin": {"type": "string", "enum": ["topLeft", "bottomLeft"]},
                            "pointOfOrigin": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
                            "tileWidth": {"type": "integer"},
                            "tileHeight": {"type": "integer"},
                            "matrixWidth": {"type": "integer"},
                            "matrixHeight": {"type": "integer"},
                        },
                    },
                },
            },
        },
        "TileSets": {
            "type": "object",
            "required": ["tilesets"],
            "properties": {"tilesets": {"type": "array", "items": tileset}, "links": links},
        },
        "TileSet": tileset,
    }


def _schemas() -> dict[str, Any]:
    link = {
        "type": "object",
        "required": ["href", "rel"],
        "properties": {k: {"type": "string"} for k in ("href", "rel", "type", "title")},
    }
    links = {"type": "array", "items": _ref("schemas", "Link")}
    geometry = {"type": "object", "nullable": True, "required": ["type"], "properties": {"type": {"type": "string"}}}
    feature = {
        "type": "object",
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"type": "string"},
            "geometry": geometry,
            "properties": {"type": "object", "nullable": True},
            "links": links,
        },
    }
    collection = {
        "type": "object",
        "required": ["id", "links"],
        "properties": {
            "id": {"type": "string"},
            "title": {"type": "string"},
            "description": {"type": "string"},
            "links": links,
            "extent": {"type": "object"},
            "itemType": {"type": "string"},
            "crs": {"type": "array", "items": {"type": "string"}},
            "storageCrs": {"type": "string"},
        },
    }
    return {
        "Link": link,
        "Document": {
            "type": "object",
            "required": ["links"],
            "properties": {"title": {"type": "string"}, "description": {"type": "string"}, "links": links},
        },
        "Conformance": {
            "type": "object",
            "required": ["conformsTo"],
            "properties": {"conformsTo": {"type": "array", "items": {"type": "string"}}},
        },
        "Collection": collection,
        "Collections": {
            "type": "object",
            "required": ["links", "collections"],
            "properties": {"links": links, "collections": {"type": "array", "items": _ref("schemas", "Collection")}},
        },
        "Feature": feature,
        "FeatureCollection": {
            "type": "object",
            "required": ["type", "features"],
            "properties": {
                "type": {"type": "string", "enum": ["FeatureCollection"]},
                "features": {"type": "array", "items": _ref("schemas", "Feature")},
                "links": links,
                "numberMatched": {"type": "integer", "minimum": 0},
                "numberReturned": {"type": "integer", "minimum": 0},
                "timeStamp": {"type": "string", "format": "date-time"},
            },
        },
        **_tile_schemas(),
        "Exception": {
            "type": "object",
            "required": ["code"],
            "properties": {"code": {"type": "string"}, "description": {"type": "string"}, "parameter": {"type": "string"}},
        },
    }


def _error_responses() -> dict[str, Any]:
    exception = {"application/json": {"schema": _ref("schemas", "Exception")}}
    return {
        "E400": {"description": "A parameter is invalid or unknown; 'parameter' names it.", "content": exception},
        "E404": {"description": "No such collection or feature (or not visible to the caller).", "content": exception},
    }


def build(*, server_url: str, collection_ids: list[str], city_ids: list[str] | None = None) -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Geoportal of the Smart Cities of Belarus — OGC API Features",
            "version": "1.0.0",
            "description": (
                "OGC API - Features Part 1 (core, GeoJSON, HTML, OpenAPI 3.0), Part 2 (CRS by reference)"
                " and Part 3 (queryables, CQL2 text and JSON filters); sortby, properties, skipGeometry;"
                " OGC API - Tiles (vector tiles of collections and cities)."
            ),
            "license": {"name": "AGPL-3.0-or-later"},
        },
        "servers": [{"url": server_url}],
        "tags": [{"name": "Capabilities"}, {"name": "Data"}, {"name": "Tiles"}],
        "paths": {**_paths(), **_tile_paths()},
        "components": {
            "parameters": {**_parameters(collection_ids), **_tile_parameters(city_ids or [])},
            "schemas": _schemas(),
            "responses": _error_responses(),
        },
    }
