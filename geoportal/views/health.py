"""/healthz: database, PostGIS version and a real tile render.

The tile goes through the same code path as `/tiles/…` (`layers.tiles.render_tile`):
a tile near the centre of the first public layer that has data, at zoom 14
clamped to its theme's range — or, with no public data yet, the tile SQL run
for a layer that has no features (an empty tile). Any failure answers 503
with what failed, so a load balancer takes the instance out of rotation.
"""

from __future__ import annotations

import time
from typing import Any

from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse

from geoportal.config import project_config
from layers.selectors import layer_list_visible
from layers.tiles import TileSource, render_tile, tile_for_lonlat

PROBE_ZOOM = 14


def _database() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT version(), postgis_full_version(), postgis_lib_version()")
        pg, postgis, postgis_version = cursor.fetchone()
    return {"database": pg, "postgis": postgis, "postgis_version": postgis_version}


def _tile_probe() -> dict[str, Any]:
    layer = layer_list_visible(user=None).filter(feature_count__gt=0, extent__isnull=False).order_by("id").first()
    if layer is None:
        source, (z, x, y), collection = TileSource(layer_id=0, name="healthz"), (0, 0, 0), None
    else:
        theme = project_config().themes.get(layer.theme)
        source, collection = TileSource.for_layer(layer, theme), layer.collection_id
        z = min(max(PROBE_ZOOM, source.min_zoom), source.max_zoom)
        centre = layer.extent.centroid  # type: ignore[union-attr]
        x, y = tile_for_lonlat(lon=centre.x, lat=centre.y, z=z)
    started = time.perf_counter()
    data = render_tile(sources=[source], z=z, x=x, y=y)
    elapsed_ms = (time.perf_counter() - started) * 1000
    return {"collection": collection, "z": z, "x": x, "y": y, "bytes": len(data), "ms": round(elapsed_ms, 2)}


def healthz(request: HttpRequest) -> JsonResponse:
    try:
        body: dict[str, Any] = {"status": "ok", **_database()}
    except DatabaseError as exc:
        return JsonResponse({"status": "error", "database": f"unavailable: {exc}".strip()}, status=503)
    try:
        body["tile"] = _tile_probe()
    except DatabaseError as exc:
        body.update(status="error", tile={"error": str(exc).strip()})
        return JsonResponse(body, status=503)
    response = JsonResponse(body)
    response["Cache-Control"] = "no-store"
    return response
