"""The viewer's JSON API at /api/: search, export, and a feature-id redirect.

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

from geoportal.ogc.params import reject_unknown, single
from layers.errors import InvalidParameter, NotFound
from layers.export import FORMATS as EXPORT_FORMATS
from layers.export import BBox, export_layer
from layers.models import City, Feature
from layers.search import SearchHit, search_features
from layers.selectors import city_get, city_list, layer_get_visible, layer_list_visible

SEARCH_DEFAULT_LIMIT = 10
SEARCH_MAX_LIMIT = 50
EXPORT_MAX_FEATURES = 50_000


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
def feature(request: HttpRequest, feature_id: int) -> HttpResponse:
    """`/api/feature/{id}` → 302 to the OGC item page. Tiles carry Feature.id; the OGC API speaks the source fid."""
    row = (
        Feature.objects.filter(id=feature_id, layer__in=layer_list_visible(user=request.user))
        .values_list("layer_id", "fid")
        .first()
    )
    if row is None:
        raise NotFound(f"Feature {feature_id} does not exist.", hint="Feature ids come from the vector tiles of /tiles/.")
    layer = layer_list_visible(user=request.user).get(id=row[0])
    target = f"/ogc/collections/{layer.collection_id}/items/{quote(row[1], safe='')}"
    if request.GET.get("f"):
        target += f"?f={quote(request.GET['f'])}"
    return HttpResponseRedirect(target)
