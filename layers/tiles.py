"""Vector tiles (MVT) built in PostGIS: one SQL statement per tile.

A tile holds one MVT layer per source (a registry layer), named by its
collection id. Each source contributes its features whose geometry intersects
the tile envelope (widened by the 64-unit buffer), clipped and quantised by
`ST_AsMVTGeom` into a 4096-unit extent; the JSONB properties become MVT
attributes (PostGIS turns a jsonb column's top-level keys into attributes;
nested objects, arrays and nulls are left out) and `Feature.id` becomes the
MVT feature id.

Per-zoom content rules:
- outside the theme's zoom range a layer contributes nothing;
- below `DETAIL_ZOOM` geometries are simplified to about a screen pixel and
  polygons smaller than about a pixel are dropped;
- at most `FEATURE_CAP` features per layer and tile, the most important first
  when the theme names a priority attribute (ascending: rank 1 comes first).

Performance notes: the envelope is transformed to EPSG:4326 once per tile so
the composite GiST (layer_id, geom) index answers the search; features are
transformed with an INTEGER srid (3857) — the text form 'EPSG:3857' rebuilds
the PROJ pipeline for every row.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import connection

from layers.errors import InvalidParameter

if TYPE_CHECKING:
    from config.loader import ThemeConfig
    from layers.models import Layer

MAX_ZOOM = 24
EXTENT = 4096
BUFFER = 64
FEATURE_CAP = 10_000
DETAIL_ZOOM = 16  # from here on (and when overzoomed beyond) tiles carry full detail
WORLD_M = 2 * 20037508.342789244  # width of the Web Mercator square in metres
RENDER_REVISION = "1"  # bump when the tile SQL changes what a tile contains: every ETag changes


@dataclass(frozen=True)
class TileSource:
    """What one MVT layer of a tile is built from."""

    layer_id: int
    name: str  # MVT layer name: the collection id
    min_zoom: int = 0
    max_zoom: int = MAX_ZOOM
    priority_attribute: str | None = None

    @classmethod
    def for_layer(cls, layer: Layer, theme: ThemeConfig | None) -> TileSource:
        if theme is None:
            return cls(layer_id=layer.pk, name=layer.collection_id)
        return cls(
            layer_id=layer.pk,
            name=layer.collection_id,
            min_zoom=theme.min_zoom,
            max_zoom=theme.max_zoom,
            priority_attribute=theme.priority_attribute,
        )

    def shows_at(self, z: int) -> bool:
        return self.min_zoom <= z <= self.max_zoom


def tile_check(*, z: int, x: int, y: int) -> None:
    """Raise InvalidParameter naming z, x or y when the tile does not exist in WebMercatorQuad."""
    if not 0 <= z <= MAX_ZOOM:
        raise InvalidParameter("z", f"Zoom level z={z} is out of range.", hint=f"Use 0 <= z <= {MAX_ZOOM}.")
    last = 2**z - 1
    for name, value in (("x", x), ("y", y)):
        if not 0 <= value <= last:
            raise InvalidParameter(name, f"Tile {name}={value} does not exist at zoom {z}.", hint=f"Use 0 <= {name} <= {last}.")


def tile_for_lonlat(*, lon: float, lat: float, z: int) -> tuple[int, int]:
    """The (x, y) of the XYZ tile at zoom z that contains a WGS84 position."""
    n = 2**z
    lat = max(min(lat, 85.0511), -85.0511)
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


def layers_version(layers: Iterable[Layer]) -> str:
    """A short token that changes whenever any of the layers changes, or the set of layers does."""
    items = sorted((layer.pk, layer.version) for layer in layers)
    return hashlib.sha256(repr((RENDER_REVISION, items)).encode()).hexdigest()[:16]


def tile_etag(*, layers: Iterable[Layer], z: int, x: int, y: int) -> str:
    """Strong ETag (quoted) over (layer ids, layer versions, z, x, y, render revision)."""
    items = sorted((layer.pk, layer.version) for layer in layers)
    digest = hashlib.sha256(repr((RENDER_REVISION, items, z, x, y)).encode()).hexdigest()[:32]
    return f'"{digest}"'


def render_tile(*, sources: Sequence[TileSource], z: int, x: int, y: int, feature_cap: int = FEATURE_CAP) -> bytes:
    """The MVT bytes of tile z/x/y with one layer per source shown at z; b"" when the tile is empty.

    Every source's `ST_AsMVT` result is concatenated in the same statement
    (concatenated MVT messages are a valid MVT message).
    """
    tile_check(z=z, x=x, y=y)
    shown = [source for source in sources if source.shows_at(z)]
    if not shown:
        return b""
    params: dict[str, Any] = {"z": z, "x": x, "y": y, "margin": BUFFER / EXTENT, "half_world": WORLD_M / 2}
    parts = []
    for index, source in enumerate(shown):
        parts.append(f"COALESCE(({_layer_sql(index, source, z)}), ''::bytea)")
        params[f"layer_{index}"] = source.layer_id
        params[f"name_{index}"] = source.name
        params[f"cap_{index}"] = feature_cap
        if source.priority_attribute:
            params[f"priority_{index}"] = source.priority_attribute
    if z < DETAIL_ZOOM:
        pixel = WORLD_M / 2**z / 512  # one CSS pixel of a 512-px vector tile, in metres
        params["tolerance"] = pixel / 2
        params["min_area"] = pixel * pixel
    sql = f"{_TILE_CTE} SELECT {' || '.join(parts)}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return bytes(row[0]) if row and row[0] is not None else b""


# The tile envelope in 3857 (for clipping) and, widened by the buffer and
# clamped to the Mercator square (the margin would wrap around the
# antimeridian otherwise), in 4326 for the index search.
_TILE_CTE = """
WITH tile AS MATERIALIZED (
    SELECT env.box AS box3857,
           ST_Transform(ST_MakeEnvelope(
               GREATEST(ST_XMin(env.wide), -%(half_world)s), GREATEST(ST_YMin(env.wide), -%(half_world)s),
               LEAST(ST_XMax(env.wide), %(half_world)s), LEAST(ST_YMax(env.wide), %(half_world)s), 3857), 4326) AS box4326
    FROM (SELECT ST_TileEnvelope(%(z)s::int, %(x)s::int, %(y)s::int) AS box,
                 ST_TileEnvelope(%(z)s::int, %(x)s::int, %(y)s::int, margin => %(margin)s::float8) AS wide) AS env
)"""


def _layer_sql(index: int, source: TileSource, z: int) -> str:
    """The scalar subquery that yields one source's MVT layer (parameters suffixed by `index`)."""
    geom = "ST_Simplify(m.g, %(tolerance)s, true)" if z < DETAIL_ZOOM else "m.g"
    drop_small = "AND (ST_Dimension(f.geom) < 2 OR ST_Area(m.g) >= %(min_area)s)" if z < DETAIL_ZOOM else ""
    order = f"ORDER BY f.properties -> %(priority_{index})s ASC NULLS LAST, f.id" if source.priority_attribute else ""
    return f"""
        SELECT ST_AsMVT(mvt, %(name_{index})s, {EXTENT}, 'geom', 'id') FROM (
            SELECT f.id, f.properties, ST_AsMVTGeom({geom}, tile.box3857, {EXTENT}, {BUFFER}, true) AS geom
            FROM tile, layers_feature AS f
            CROSS JOIN LATERAL (SELECT ST_Transform(f.geom, 3857) AS g) AS m
            WHERE f.layer_id = %(layer_{index})s AND ST_Intersects(f.geom, tile.box4326) {drop_small}
            {order}
            LIMIT %(cap_{index})s
        ) AS mvt WHERE mvt.geom IS NOT NULL"""
