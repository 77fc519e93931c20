"""OGC API - Features Part 1 (core, GeoJSON, HTML, OpenAPI 3.0) as native Django views.

Views stay thin: parameters are parsed in `params`, layers come from the one
permission check (`layers.selectors`), and the GeoJSON text of items is built
by PostGIS (`layers.features`) and passed through untouched.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language

from geoportal.ogc import openapi as openapi_builder
from geoportal.ogc.links import GEOJSON, HTML, JSON, OPENAPI, href, link, self_and_alternate
from geoportal.ogc.params import ItemsQuery, encode_cursor, negotiate_format, parse_items_query, reject_unknown
from layers.errors import NotFound
from layers.features import feature_get_geojson, feature_page_geojson
from layers.models import Layer, Visibility
from layers.selectors import layer_get_visible, layer_list_visible

CONF = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
CONFORMANCE = [CONF + name for name in ("core", "geojson", "html", "oas30")]
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
TITLE = "Geoportal of the Smart Cities of Belarus"
DESCRIPTION = (
    "Municipal and national spatial data of Belarus (roads, buildings, utilities, boundaries, addresses, transport)"
    " as OGC API Features."
)

def _language() -> str:
    return (get_language() or "en").split("-")[0]


def _html(template: str, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    body = render_to_string(f"ogc/{template}", {"lang": _language(), **context})
    response = HttpResponse(body, content_type="text/html; charset=utf-8", status=status)
    patch_vary_headers(response, ("Accept",))  # the format may come from content negotiation
    return response


def _json(doc: dict[str, Any], media_type: str = JSON) -> HttpResponse:
    response = JsonResponse(doc, content_type=media_type, json_dumps_params={"ensure_ascii": False})
    patch_vary_headers(response, ("Accept",))
    return response


def landing(request: HttpRequest) -> HttpResponse:
    reject_unknown(request, ("f",))
    fmt = negotiate_format(request)
    links = [
        *self_and_alternate(request, "/ogc/", fmt),
        link(href(request, "/ogc/openapi"), "service-desc", OPENAPI, "The API definition (OpenAPI 3.0)"),
        link(href(request, "/ogc/conformance"), "conformance", JSON, "Conformance classes implemented by this server"),
        link(href(request, "/ogc/collections"), "data", JSON, "The feature collections"),
    ]
    doc = {"title": TITLE, "description": DESCRIPTION, "links": links}
    return _html("landing.html", {"doc": doc}) if fmt == "html" else _json(doc)


def conformance(request: HttpRequest) -> HttpResponse:
    reject_unknown(request, ("f",))
    fmt = negotiate_format(request)
    doc = {"conformsTo": CONFORMANCE}
    return _html("conformance.html", {"doc": doc}) if fmt == "html" else _json(doc)


def collections(request: HttpRequest) -> HttpResponse:
    reject_unknown(request, ("f",))
    fmt = negotiate_format(request)
    layers = layer_list_visible(user=request.user)
    doc = {
        "links": self_and_alternate(request, "/ogc/collections", fmt),
        "collections": [_collection_doc(request, layer, fmt) for layer in layers],
    }
    return _html("collections.html", {"doc": doc}) if fmt == "html" else _json(doc)


def collection(request: HttpRequest, cid: str) -> HttpResponse:
    reject_unknown(request, ("f",))
    fmt = negotiate_format(request)
    layer = layer_get_visible(cid=cid, user=request.user)
    doc = _collection_doc(request, layer, fmt)
    return _html("collection.html", {"doc": doc, "layer": layer}) if fmt == "html" else _json(doc)


def _collection_doc(request: HttpRequest, layer: Layer, fmt: str) -> dict[str, Any]:
    lang, cid = _language(), layer.collection_id
    base = f"/ogc/collections/{cid}"
    doc: dict[str, Any] = {
        "id": cid,
        "title": layer.title_in(lang),
        "description": str(layer.abstract.get(lang) or layer.abstract.get("en") or ""),
        "links": [
            *self_and_alternate(request, base, fmt),
            link(href(request, f"{base}/items", {"f": "json"}), "items", GEOJSON, "The features as GeoJSON"),
            link(href(request, f"{base}/items", {"f": "html"}), "items", HTML, "The features as HTML"),
        ],
        "itemType": "feature",
        "crs": [CRS84],
        "storageCrs": CRS84,
    }
    if layer.extent is not None:
        doc["extent"] = {"spatial": {"bbox": [list(layer.extent.extent)], "crs": CRS84}}
    if layer.license:
        doc["license"] = layer.license
    if layer.attribution:
        doc["attribution"] = layer.attribution
    return doc


def items(request: HttpRequest, cid: str) -> HttpResponse:
    fmt = negotiate_format(request)
    query = parse_items_query(request)
    layer = layer_get_visible(cid=cid, user=request.user)
    etag = _etag(request, layer, fmt)
    if _matches(request, etag):
        return _not_modified(etag, layer)
    page = feature_page_geojson(
        layer_id=layer.id, limit=query.limit, after_id=query.after_id, offset=query.offset, bbox=query.bbox
    )
    meta: dict[str, Any] = {"numberReturned": page.number_returned}
    if query.bbox is None:
        # Exact and free: ingest maintains feature_count; a filtered count would cost a scan, so it is omitted.
        meta["numberMatched"] = layer.feature_count
    meta["timeStamp"] = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    meta["links"] = _items_links(request, layer, query, fmt, page.last_id if page.has_more else None)
    if fmt == "html":
        features = json.loads(page.features_json)
        response = _html(
            "items.html", {"layer": layer, "title": layer.title_in(_language()), "meta": meta, **_table(layer, features)}
        )
    else:
        body = '{"type":"FeatureCollection","features":' + page.features_json + "," + json.dumps(meta, ensure_ascii=False)[1:]
        response = HttpResponse(body, content_type=GEOJSON)
    if query.clamped_from is not None:
        response["Geoportal-Limit-Clamped"] = f"requested {query.clamped_from}, served at most {query.limit} (the maximum)"
    return _cacheable(response, etag, layer)


def _items_links(request: HttpRequest, layer: Layer, query: ItemsQuery, fmt: str, next_after: int | None) -> list[dict[str, str]]:
    base = f"/ogc/collections/{layer.collection_id}"
    bbox = request.GET.get("bbox")
    params: dict[str, Any] = {
        "limit": query.limit,
        "bbox": bbox,
        "datetime": query.datetime,
        "cursor": request.GET.get("cursor"),
        "offset": query.offset or None,
    }
    links = self_and_alternate(request, f"{base}/items", fmt, json_type=GEOJSON, query=params)
    if next_after is not None:
        params.update(cursor=encode_cursor(next_after), offset=None)
        media = HTML if fmt == "html" else GEOJSON
        links.append(link(href(request, f"{base}/items", {**params, "f": fmt}), "next", media, "The next page"))
    links.append(link(href(request, base, {"f": fmt}), "collection", HTML if fmt == "html" else JSON, "The collection"))
    return links


def _table(layer: Layer, features: list[dict[str, Any]]) -> dict[str, Any]:
    """Columns (the layer's fields first, then any other key seen) and rows of an HTML table of features."""
    columns = list(layer.fields)
    for feature in features:
        columns += [key for key in (feature.get("properties") or {}) if key not in columns]
    rows = [
        {
            "id": feature["id"],
            "geometry_type": (feature.get("geometry") or {}).get("type", ""),
            "cells": [_cell((feature.get("properties") or {}).get(col)) for col in columns],
        }
        for feature in features
    ]
    return {"columns": columns, "rows": rows}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def item(request: HttpRequest, cid: str, fid: str) -> HttpResponse:
    reject_unknown(request, ("f",))
    fmt = negotiate_format(request)
    layer = layer_get_visible(cid=cid, user=request.user)
    etag = _etag(request, layer, fmt)
    if _matches(request, etag):
        return _not_modified(etag, layer)
    text = feature_get_geojson(layer_id=layer.id, fid=fid)
    if text is None:
        raise NotFound(
            f"Feature {fid!r} does not exist in collection {cid!r}.",
            hint=f"List the features of the collection at /ogc/collections/{cid}/items.",
        )
    base = f"/ogc/collections/{cid}"
    links = [
        *self_and_alternate(request, f"{base}/items/{quote(fid, safe='')}", fmt, json_type=GEOJSON),
        link(href(request, base, {"f": fmt}), "collection", HTML if fmt == "html" else JSON, "The collection"),
    ]
    if fmt == "html":
        feature = json.loads(text)
        context = {"layer": layer, "title": layer.title_in(_language()), "feature": feature, "links": links}
        properties = [(key, _cell(value)) for key, value in (feature.get("properties") or {}).items()]
        response = _html("item.html", {**context, "properties": properties})
    else:
        # The Feature text ends with its closing brace: add the links member before it.
        response = HttpResponse(text[:-1] + ',"links":' + json.dumps(links, ensure_ascii=False) + "}", content_type=GEOJSON)
    return _cacheable(response, etag, layer)


def openapi(request: HttpRequest) -> HttpResponse:
    reject_unknown(request, ("f",))
    negotiate_format(request, offered=("json",))
    cids = [layer.collection_id for layer in layer_list_visible(user=request.user)]
    return _json(openapi_builder.build(server_url=request.build_absolute_uri("/ogc"), collection_ids=cids), OPENAPI)


# ETag: derived from what the response depends on, so a 304 costs one layer lookup and no feature query.
def _etag(request: HttpRequest, layer: Layer, fmt: str) -> str:
    key = "|".join(
        str(part)
        for part in (
            layer.id,
            layer.version,
            layer.updated_at.isoformat() if layer.updated_at else "",
            request.build_absolute_uri(),
            fmt,
            _language(),
            settings.GEOPORTAL["DEFAULT_LIMIT"],
            settings.GEOPORTAL["MAX_LIMIT"],
        )
    )
    # Weak: the body carries a timeStamp, so equal tags mean equal content, not equal bytes.
    return 'W/"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'


def _matches(request: HttpRequest, etag: str) -> bool:
    header = request.headers.get("If-None-Match", "")
    if header.strip() == "*":
        return True
    # Weak comparison (RFC 9110 §13.1.2); GZipMiddleware may also have weakened the tag.
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return etag.removeprefix("W/") in tags


def _cacheable(response: HttpResponse, etag: str, layer: Layer) -> HttpResponse:
    response["ETag"] = etag
    response["Cache-Control"] = "no-cache" if layer.visibility == Visibility.PUBLIC else "private, no-cache"
    patch_vary_headers(response, ("Accept", "Accept-Language", "Cookie"))
    return response


def _not_modified(etag: str, layer: Layer) -> HttpResponse:
    return _cacheable(HttpResponse(status=304), etag, layer)
