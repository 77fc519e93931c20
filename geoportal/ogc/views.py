"""OGC API - Features Part 1 (core, GeoJSON, HTML, OpenAPI 3.0) as native Django views.

Views stay thin: parameters are parsed in `params`, layers come from the one
permission check (`layers.selectors`), and the GeoJSON text of items is built
by PostGIS (`layers.features`) and passed through untouched; HTML tables and CSV
are rendered in `render`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, cast
from urllib.parse import quote

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language

from config.loader import TemporalConfig
from geoportal.conditional import etag_matches
from geoportal.config import project_config
from geoportal.ogc import openapi as openapi_builder
from geoportal.ogc import render
from geoportal.ogc.links import GEOJSON, HTML, JSON, OPENAPI, SCHEMA, href, link, self_and_alternate
from geoportal.ogc.params import (
    FORMATS,
    ItemsQuery,
    encode_cursor,
    encode_offset_cursor,
    negotiate_format,
    parse_items_query,
    parse_output_crs,
    reject_unknown,
)
from geoportal.ogc.sources import Source, ThemeCollection, group_themes, is_theme_collection, layer_ids, source_get
from layers.crs import CRS84_URI, crs_uris
from layers.errors import NotFound
from layers.features import Output, feature_get_geojson, feature_page_geojson
from layers.models import Visibility
from layers.queryables import Queryable, layer_queryables, queryable_types, queryables_schema
from layers.selectors import city_list, layer_and_feature_geojson, layer_list_visible
from layers.services import layer_time_extent

CONF = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
CONF_FILTER = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/"
CONF_CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf/"
CONFORMANCE = [
    *(CONF + name for name in ("core", "geojson", "html", "oas30")),
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    *(CONF_FILTER + name for name in ("queryables", "filter", "features-filter")),
    *(
        CONF_CQL2 + name
        for name in (
            "cql2-text",
            "cql2-json",
            "basic-cql2",
            "advanced-comparison-operators",
            "case-insensitive-comparison",
            "accent-insensitive-comparison",
            "basic-spatial-functions",
            "spatial-functions",
            "temporal-functions",
            "array-functions",
        )
    ),
]
TRS_GREGORIAN = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
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
    visible = list(layer_list_visible(user=request.user))
    layers: list[Source] = [*visible, *group_themes(visible, project_config().themes)]
    doc = {
        "links": self_and_alternate(request, "/ogc/collections", fmt),
        "collections": [_collection_doc(request, layer, fmt) for layer in layers],
    }
    return _html("collections.html", {"doc": doc}) if fmt == "html" else _json(doc)


def collection(request: HttpRequest, cid: str) -> HttpResponse:
    reject_unknown(request, ("f",))
    fmt = negotiate_format(request)
    layer = _source(request, cid)
    doc = _collection_doc(request, layer, fmt)
    return _html("collection.html", {"doc": doc, "layer": layer}) if fmt == "html" else _json(doc)


def _source(request: HttpRequest, cid: str) -> Source:
    return source_get(cid=cid, user=request.user, themes=project_config().themes)


def _collection_doc(request: HttpRequest, layer: Source, fmt: str) -> dict[str, Any]:
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
            link(href(request, f"{base}/queryables"), "http://www.opengis.net/def/rel/ogc/1.0/queryables", SCHEMA, "Queryables"),
        ],
        "itemType": "feature",
        "crs": _offered_crs(layer),
        "storageCrs": CRS84_URI,
    }
    if layer.extent is not None:
        doc["extent"] = {"spatial": {"bbox": [list(layer.extent.extent)], "crs": CRS84_URI}}
    interval = _time_extent(layer)
    if interval is not None:
        doc.setdefault("extent", {})["temporal"] = {"interval": [interval], "trs": TRS_GREGORIAN}
    if layer.license:
        doc["license"] = layer.license
    if layer.attribution:
        doc["attribution"] = layer.attribution
    return doc


def _temporal(layer: Source) -> TemporalConfig | None:
    theme = project_config().themes.get(layer.theme)
    return theme.temporal if theme else None


def _time_extent(layer: Source) -> list[str | None] | None:
    """The collection's temporal extent: each member layer's, stored per layer version (layer_time_extent)."""
    theme = project_config().themes.get(layer.theme)
    if theme is None or theme.temporal is None:
        return None
    members = layer.layers if isinstance(layer, ThemeCollection) else [layer]
    found = [extent for member in members if (extent := layer_time_extent(layer=member, theme=theme)) is not None]
    if not found:
        return None
    starts, ends = [extent[0] for extent in found], [extent[1] for extent in found]
    # None is an open end: one member open at an end leaves the collection open there.
    first = None if None in starts else min(cast("list[str]", starts), key=_instant)
    last = None if None in ends else max(cast("list[str]", ends), key=_instant)
    return [first, last]


def _instant(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def _offered_crs(layer: Source) -> list[str]:
    cities = [m.city for m in layer.layers] if isinstance(layer, ThemeCollection) else [layer.city]
    local = [int(entry["srid"]) for city in cities if city for entry in city.local_crs if "srid" in entry]
    return crs_uris(sorted(set(local)))


def _queryables(layer: Source) -> dict[str, Queryable]:
    return layer_queryables(layer.fields or {}, project_config().themes.get(layer.theme))


def _output(layer: Source, output: Output) -> Output:
    if isinstance(layer, ThemeCollection):
        return replace(output, id_prefixes=tuple(layer.id_prefixes().items()))
    return output


def queryables(request: HttpRequest, cid: str) -> HttpResponse:
    reject_unknown(request, ("f",))
    negotiate_format(request, offered=("json",))
    layer = _source(request, cid)
    doc = queryables_schema(
        _queryables(layer),
        schema_id=href(request, f"/ogc/collections/{cid}/queryables"),
        title=layer.title_in(_language()),
        geometry_type=layer.geometry_type,
        language=_language(),
    )
    return _json(doc, SCHEMA)


def items(request: HttpRequest, cid: str) -> HttpResponse:
    fmt = negotiate_format(request, offered=(*FORMATS, "csv"))
    layer = _source(request, cid)
    query = parse_items_query(
        request, offered_crs=_offered_crs(layer), queryables=queryable_types(_queryables(layer)), temporal=_temporal(layer)
    )
    etag = _etag(request, layer, fmt)
    if etag_matches(request, etag):
        return _not_modified(etag, layer)
    page = feature_page_geojson(
        layer_ids=layer_ids(layer),
        limit=query.limit,
        after_id=query.after_id,
        offset=query.offset,
        bbox=query.bbox,
        conditions=[c for c in (query.condition, query.time_condition) if c is not None],
        sort=query.sort,
        output=_output(layer, query.output),
    )
    meta: dict[str, Any] = {"numberReturned": page.number_returned}
    if query.bbox is None and query.condition is None and query.time_condition is None:
        # Exact and free: ingest maintains feature_count; a filtered count would cost a scan, so it is omitted.
        meta["numberMatched"] = layer.feature_count
    meta["timeStamp"] = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    meta["links"] = _items_links(request, layer, query, fmt, page.last_id, has_more=page.has_more)
    if fmt == "html":
        features = json.loads(page.features_json)
        context = {"layer": layer, "title": layer.title_in(_language()), "meta": meta, **render.feature_table(layer, features)}
        if query.crs.uri == CRS84_URI and not query.output.skip_geometry:
            context["map_geojson"] = {"type": "FeatureCollection", "features": features}
        response = _html("items.html", context)
    elif fmt == "csv":
        response = render.features_csv(layer, json.loads(page.features_json), meta["links"])
    else:
        body = '{"type":"FeatureCollection","features":' + page.features_json + "," + json.dumps(meta, ensure_ascii=False)[1:]
        response = HttpResponse(body, content_type=GEOJSON)
    response["Content-Crs"] = f"<{query.crs.uri}>"
    if query.clamped_from is not None:
        response["Geoportal-Limit-Clamped"] = f"requested {query.clamped_from}, served at most {query.limit} (the maximum)"
    return _cacheable(response, etag, layer)


# Parameters a next/prev link carries over unchanged (cursor and offset are rewritten).
_CARRIED = ("bbox", "bbox-crs", "crs", "datetime", "filter", "filter-lang", "filter-crs", "sortby", "properties", "skipGeometry")


def _items_links(
    request: HttpRequest, layer: Source, query: ItemsQuery, fmt: str, last_id: int | None, *, has_more: bool
) -> list[dict[str, str]]:
    base = f"/ogc/collections/{layer.collection_id}"
    params: dict[str, Any] = {"limit": query.limit, **{name: request.GET.get(name) for name in _CARRIED}}
    params.update(cursor=request.GET.get("cursor"), offset=request.GET.get("offset"))
    links = self_and_alternate(request, f"{base}/items", fmt, json_type=GEOJSON, query=params)
    media = {"html": HTML, "csv": render.CSV}.get(fmt, GEOJSON)
    if has_more and last_id is not None:
        # Keyset paging on Feature.id; under a sortby the cursor carries the next offset instead.
        cursor = encode_offset_cursor(query.offset + query.limit) if query.sort else encode_cursor(last_id)
        params.update(cursor=cursor, offset=None)
        links.append(link(href(request, f"{base}/items", {**params, "f": fmt}), "next", media, "The next page"))
    if query.sort and query.offset > 0:
        previous = max(query.offset - query.limit, 0)
        params.update(cursor=encode_offset_cursor(previous) if previous else None, offset=None)
        links.append(link(href(request, f"{base}/items", {**params, "f": fmt}), "prev", media, "The previous page"))
    links.append(link(href(request, base, {"f": fmt}), "collection", HTML if fmt == "html" else JSON, "The collection"))
    return links


def item(request: HttpRequest, cid: str, fid: str) -> HttpResponse:
    reject_unknown(request, ("f", "crs"))
    fmt = negotiate_format(request)
    layer, text, read = _item_source(request, cid, fid)
    crs = parse_output_crs(request, _offered_crs(layer))
    etag = _etag(request, layer, fmt)
    if etag_matches(request, etag):
        return _not_modified(etag, layer)
    if not read:
        text = _feature_text(layer, fid, Output(crs=crs))
    if text is None:
        raise NotFound(
            f"Feature {fid!r} does not exist in collection {cid!r}.",
            hint=f"List the features of the collection at /ogc/collections/{cid}/items.",
        )
    base = f"/ogc/collections/{cid}"
    links = [
        *self_and_alternate(
            request, f"{base}/items/{quote(fid, safe='')}", fmt, json_type=GEOJSON, query={"crs": request.GET.get("crs")}
        ),
        link(href(request, base, {"f": fmt}), "collection", HTML if fmt == "html" else JSON, "The collection"),
    ]
    if fmt == "html":
        feature = json.loads(text)
        context = {"layer": layer, "title": layer.title_in(_language()), "feature": feature, "links": links}
        if crs.uri == CRS84_URI and feature.get("geometry"):
            context["map_geojson"] = {"type": "FeatureCollection", "features": [feature]}
        properties = [(key, render.cell(value)) for key, value in (feature.get("properties") or {}).items()]
        context["time"] = render.feature_time(_temporal(layer), feature)
        response = _html("item.html", {**context, "properties": properties})
    else:
        # The Feature text ends with its closing brace: add the links member before it.
        response = HttpResponse(text[:-1] + ',"links":' + json.dumps(links, ensure_ascii=False) + "}", content_type=GEOJSON)
    response["Content-Crs"] = f"<{crs.uri}>"
    return _cacheable(response, etag, layer)


def _item_source(request: HttpRequest, cid: str, fid: str) -> tuple[Source, str | None, bool]:
    """The collection and, for a layer asked in the default CRS (CRS84), the feature's text read with it
    (one statement for anonymous callers); the flag says whether the feature was read."""
    if "crs" in request.GET or is_theme_collection(cid, project_config().themes):
        return _source(request, cid), None, False
    layer, text = layer_and_feature_geojson(cid=cid, fid=fid, user=request.user)
    return layer, text, True


def _feature_text(layer: Source, fid: str, output: Output) -> str | None:
    if isinstance(layer, ThemeCollection):
        found = layer.member(fid)
        if found is None:
            return None
        member, member_fid = found
        return feature_get_geojson(layer_id=member.id, fid=member_fid, output=_output(layer, output))
    return feature_get_geojson(layer_id=layer.id, fid=fid, output=output)


def openapi(request: HttpRequest) -> HttpResponse:
    reject_unknown(request, ("f",))
    negotiate_format(request, offered=("json",))
    visible = list(layer_list_visible(user=request.user))
    sources: list[Source] = [*visible, *group_themes(visible, project_config().themes)]
    cids = [source.collection_id for source in sources]
    cities = [city.slug for city in city_list()]
    doc = openapi_builder.build(server_url=request.build_absolute_uri("/ogc"), collection_ids=cids, city_ids=cities)
    return _json(doc, OPENAPI)


# ETag: derived from what the response depends on, so a 304 costs one layer lookup and no feature query.
def _etag(request: HttpRequest, layer: Source, fmt: str) -> str:
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


def _cacheable(response: HttpResponse, etag: str, layer: Source) -> HttpResponse:
    response["ETag"] = etag
    response["Cache-Control"] = "no-cache" if layer.visibility == Visibility.PUBLIC else "private, no-cache"
    patch_vary_headers(response, ("Accept", "Accept-Language", "Cookie"))
    return response


def _not_modified(etag: str, layer: Source) -> HttpResponse:
    return _cacheable(HttpResponse(status=304), etag, layer)
