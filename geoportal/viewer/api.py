"""The viewer's JSON API at /api/: search, export, identify (features near a click), and a feature-id redirect.

Every view resolves layers through `layers.selectors` (the access check), so a
layer the caller may not see answers exactly like a missing one.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.views.decorators.http import require_GET

from geoportal.config import project_config
from geoportal.ogc.params import reject_unknown, single
from geoportal.ogc.sources import is_theme_collection
from layers.errors import InvalidParameter, NotFound
from layers.export import FORMATS as EXPORT_FORMATS
from layers.export import BBox, export_layer
from layers.models import City, Feature
from layers.search import SearchHit, search_features
from layers.selectors import NearbyFeature, city_get, city_list, layer_features_near, layer_get_visible, layer_list_visible

SEARCH_DEFAULT_LIMIT = 10
SEARCH_MAX_LIMIT = 50
EXPORT_MAX_FEATURES = 50_000
IDENTIFY_LIMIT = 10
IDENTIFY_DEFAULT_TOLERANCE_M = 3.0
IDENTIFY_MAX_TOLERANCE_M = 5000.0


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    """`/api/search?q=&city=&limit=`: a GeoJSON FeatureCollection of Points (the centre of each hit).

    Without `city` it searches every city (and the national layers); each hit carries its city's slug and names.
    """
    reject_unknown(request, ("q", "city", "limit"))
    query = single(request, "q")
    if not query or not query.strip():
        raise InvalidParameter(
            "q", "Parameter 'q' (the text to search for) is missing.", hint="E.g. /api/search?q=Lenina&city=minsk"
        )
    city_slug = single(request, "city")
    city: City | None = city_get(slug=city_slug) if city_slug else None
    limit = _search_limit(single(request, "limit"))
    hits = search_features(query=query.strip(), user=request.user, city=city, limit=limit)
    names = {c.slug: dict(c.name) for c in city_list()} if any(hit.city for hit in hits) else {}
    body = {
        "type": "FeatureCollection",
        "query": query,
        "numberReturned": len(hits),
        "features": [_hit_feature(hit, names) for hit in hits],
    }
    return JsonResponse(body, content_type="application/geo+json", json_dumps_params={"ensure_ascii": False})


def _search_limit(raw: str | None) -> int:
    if raw is None:
        return SEARCH_DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= SEARCH_MAX_LIMIT:
        raise InvalidParameter("limit", f"limit={raw!r} is not an integer between 1 and {SEARCH_MAX_LIMIT}.")
    return int(raw)


def _hit_feature(hit: SearchHit, city_names: dict[str, dict[str, str]]) -> dict[str, Any]:
    item = f"/ogc/collections/{hit.collection}/items/{quote(hit.fid, safe='')}"
    return {
        "type": "Feature",
        "id": f"{hit.collection}/{hit.fid}",
        "bbox": list(hit.bbox),
        "geometry": {"type": "Point", "coordinates": list(hit.centre)},
        "properties": {
            "label": hit.label,
            "collection": hit.collection,
            "layer_title": hit.layer_title,
            "fid": hit.fid,
            "city": hit.city,
            "city_name": city_names.get(hit.city) if hit.city else None,
            "matches": hit.matches,
            "score": hit.score,
        },
        "links": [{"rel": "item", "type": "application/geo+json", "href": item}],
    }


@require_GET
def export(request: HttpRequest) -> HttpResponse:
    """`/api/export?collection=&bbox=&format=geojson|gpkg|csv`: a download of one visible layer within a box."""
    reject_unknown(request, ("collection", "bbox", "format"))
    cid = single(request, "collection")
    if not cid:
        raise InvalidParameter("collection", "Parameter 'collection' is missing.", hint="E.g. collection=sample-roads.")
    fmt = single(request, "format") or "geojson"
    if fmt not in EXPORT_FORMATS:
        raise InvalidParameter("format", f"Unknown export format {fmt!r}.", hint=f"Allowed values: {', '.join(EXPORT_FORMATS)}.")
    bbox = _parse_bbox(single(request, "bbox"))
    layer = layer_get_visible(cid=cid, user=request.user)
    cap = int(settings.GEOPORTAL.get("EXPORT_MAX_FEATURES", EXPORT_MAX_FEATURES))
    exported = export_layer(layer=layer, bbox=bbox, fmt=fmt, max_features=cap)
    response = HttpResponse(exported.content, content_type=exported.media_type)
    response["Content-Disposition"] = f'attachment; filename="{exported.filename}"'
    response["Geoportal-Feature-Count"] = str(exported.feature_count)
    return response


def _parse_bbox(raw: str | None) -> BBox | None:
    """minLon,minLat,maxLon,maxLat in CRS84 (the viewer sends its current view)."""
    if raw is None:
        return None
    example = "Use bbox=minLon,minLat,maxLon,maxLat in CRS84, e.g. bbox=27.4,53.8,27.7,54.0."
    parts = raw.split(",")
    if len(parts) != 4:
        raise InvalidParameter("bbox", f"bbox={raw!r}: expected 4 comma-separated numbers, found {len(parts)}.", hint=example)
    try:
        minx, miny, maxx, maxy = (float(part) for part in parts)
    except ValueError:
        raise InvalidParameter("bbox", f"bbox={raw!r}: every part must be a number.", hint=example) from None
    if not all(map(math.isfinite, (minx, miny, maxx, maxy))) or minx > maxx or miny > maxy:
        raise InvalidParameter("bbox", f"bbox={raw!r}: the numbers must be finite with minimum <= maximum.", hint=example)
    # A view wider than the world (zoomed far out) is clamped rather than refused.
    return BBox(max(minx, -180.0), max(miny, -90.0), min(maxx, 180.0), min(maxy, 90.0))


@require_GET
def identify(request: HttpRequest) -> HttpResponse:
    """`/api/identify?collection=&lon=&lat=&tolerance=`: the features of one visible layer within `tolerance`
    metres (default 3) of the point lon/lat (CRS84), nearest first, at most 10.

    A GeoJSON FeatureCollection; each feature has its source fid as `id` (the OGC API item id), its full
    geometry in CRS84, its properties, its distance in metres and a link to its OGC API item. The viewer
    asks it on a click: vector tiles carry no feature id.
    """
    reject_unknown(request, ("collection", "lon", "lat", "tolerance"))
    example = "E.g. /api/identify?collection=minsk-buildings&lon=27.5615&lat=53.9023&tolerance=3"
    cid = single(request, "collection")
    if not cid:
        raise InvalidParameter("collection", "Parameter 'collection' (the collection to identify in) is missing.", hint=example)
    if is_theme_collection(cid, project_config().themes):
        raise InvalidParameter(
            "collection",
            f"Collection {cid!r} spans every city's layer of the theme; identify works on one layer's collection.",
            hint=f"Use a city's collection, e.g. collection=minsk-{cid}; see /ogc/collections.",
        )
    lon = _number(request, "lon", -180.0, 180.0, example=example)
    lat = _number(request, "lat", -90.0, 90.0, example=example)
    tolerance = _number(
        request, "tolerance", 0.0, IDENTIFY_MAX_TOLERANCE_M, default=IDENTIFY_DEFAULT_TOLERANCE_M, unit=" metres", example=example
    )
    layer = layer_get_visible(cid=cid, user=request.user)
    found = layer_features_near(layer=layer, lon=lon, lat=lat, tolerance_m=tolerance, limit=IDENTIFY_LIMIT)
    body = {
        "type": "FeatureCollection",
        "collection": layer.collection_id,
        "numberReturned": len(found),
        "features": [_identified(layer.collection_id, near) for near in found],
    }
    return JsonResponse(body, content_type="application/geo+json", json_dumps_params={"ensure_ascii": False})


def _number(
    request: HttpRequest,
    name: str,
    low: float,
    high: float,
    *,
    example: str,
    default: float | None = None,
    unit: str = "",
) -> float:
    """A finite number between `low` and `high` (inclusive) from parameter `name`; `default` when absent."""
    raw = single(request, name)
    bounds = f"between {low:g} and {high:g}{unit}"
    if raw is None or not raw.strip():
        if default is not None:
            return default
        raise InvalidParameter(name, f"Parameter {name!r} is missing: a number {bounds} is required.", hint=example)
    try:
        value = float(raw)
    except ValueError:
        raise InvalidParameter(
            name, f"{name}={raw!r} is not a number.", hint=f"Give a decimal number {bounds}. {example}"
        ) from None
    if not math.isfinite(value) or not low <= value <= high:
        raise InvalidParameter(name, f"{name}={raw!r} is out of range: it must be a finite number {bounds}.", hint=example)
    return value


def _identified(cid: str, near: NearbyFeature) -> dict[str, Any]:
    item = f"/ogc/collections/{cid}/items/{quote(near.fid, safe='')}"
    return {
        "type": "Feature",
        "id": near.fid,
        "geometry": near.geometry,
        "properties": near.properties,
        "distance": round(near.distance_m, 3),
        "links": [{"rel": "item", "type": "application/geo+json", "href": item}],
    }


@require_GET
def feature(request: HttpRequest, feature_id: int) -> HttpResponse:
    """`/api/feature/{id}` → 302 to the OGC item page, for links made when tiles carried the internal Feature.id
    (they no longer do: the viewer identifies a clicked feature with /api/identify). The OGC API speaks the source fid."""
    row = (
        Feature.objects.filter(id=feature_id, layer__in=layer_list_visible(user=request.user))
        .values_list("layer_id", "fid")
        .first()
    )
    if row is None:
        raise NotFound(
            f"Feature {feature_id} does not exist.",
            hint="Internal feature ids change when a layer is re-imported; find the feature with /api/search or "
            "/api/identify, or by its stable id at /ogc/collections/{collection}/items/{id}.",
        )
    layer = layer_list_visible(user=request.user).get(id=row[0])
    target = f"/ogc/collections/{layer.collection_id}/items/{quote(row[1], safe='')}"
    if request.GET.get("f"):
        target += f"?f={quote(request.GET['f'])}"
    return HttpResponseRedirect(target)
