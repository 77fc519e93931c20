"""Vector tiles (MVT) built in PostGIS: one SQL statement per tile.

A tile holds one MVT layer per source (a registry layer), named by its
collection id. Each source contributes its features that meet the tile itself
(one lying wholly in the buffer is drawn by the neighbouring tile only),
clipped (with a 64-unit buffer, so shapes join seamlessly across tile edges)
and quantised by `ST_AsMVTGeom` into a 4096-unit extent; the JSONB properties
become MVT attributes (PostGIS turns a jsonb column's top-level keys into
attributes; nested objects, arrays and nulls are left out). Features carry no
MVT id: the database id changes with every re-import, so it identified nothing
a client could keep, and it cost 4 bytes a feature (3.4% of a z15-16 tile);
the viewer identifies a clicked feature through /api/identify. Non-integral
numbers are 8-byte doubles (all ST_AsMVT makes of jsonb), except in a layer
whose numbers all came from 4-byte float columns (`Layer.single_precision`):
its tiles carry 4-byte floats, as the anchors do for `real` columns
(`layers.mvt.doubles_as_floats`). At z15-16 that is the anchors' content in
no more bytes than TiPg sends for it (benchmark: 37.6 kB against 37.8 kB;
MapServer 43.5 kB).

Per-zoom content rules:
- outside the theme's zoom range a layer contributes nothing;
- below `DETAIL_ZOOM` geometries with many vertices (lines, large areas) are
  simplified to about half a screen pixel (of a 512-px tile) and polygons
  smaller than a pixel of the published WebMercatorQuad (256-px tiles; a 2x2
  block of screen pixels at 512) are dropped — buildings at z13 (200k
  synthetic buildings over Minsk) went from ~115 to ~50 kB per tile and
  render about 3x faster. Small geometries are not
  simplified: `ST_AsMVTGeom` snaps them to the tile grid anyway;
- at most `FEATURE_CAP` features per layer and tile, the most important first
  when the theme names a priority attribute (ascending: rank 1 comes first);
- below `BRIEF_BELOW_ZOOM` features carry only the attributes the map needs
  there (`brief_attributes`: those the theme's style refers to, `name` and the
  priority attribute); the full set from `BRIEF_BELOW_ZOOM` (z15) on. At z14 the
  full set made a Minsk building tile of the 5M national layer 113 KiB and took
  about twice the render time of the brief one (26 KiB); the viewer's identify
  panel reads a clicked feature's full record from the server anyway.

A tile is a pure function of its sources (layer id, version, theme rules), z,
x and y and `RENDER_REVISION`: `tileset_key` hashes the sources and the
revision (one key per tile set; the cache files tiles under it by z/x/y) and
`tile_key` adds z, x and y, so a cache keyed by them can never serve a tile of
an older layer version.

Performance notes: features are read from `geom_3857`, a stored generated
Web Mercator copy of `geom` (migration 0005_tiles) with its own composite
GiST (layer_id, geom_3857) index, so no row is transformed per tile (30-40%
less execution time at z15-16). Wherever a transform is needed, pass an
INTEGER srid (3857): the text form 'EPSG:3857' rebuilds the PROJ pipeline for
every row.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import connection

from layers.errors import InvalidParameter
from layers.mvt import doubles_as_floats

if TYPE_CHECKING:
    from config.loader import ThemeConfig
    from layers.models import Layer

MAX_ZOOM = 24
EXTENT = 4096
BUFFER = 64
FEATURE_CAP = 10_000
DETAIL_ZOOM = 16  # from here on (and when overzoomed beyond) tiles carry full detail
WORLD_M = 2 * 20037508.342789244  # width of the Web Mercator square in metres
SIMPLIFY_FROM_POINTS = 32  # fewer vertices: not worth an ST_Simplify (measured: it doubled z13 building tiles' time)
BRIEF_BELOW_ZOOM = 15  # below this zoom only `brief_attributes` are sent
RENDER_REVISION = "6"  # bump when the tile SQL changes what a tile contains: every ETag and cache key changes


# The Layer fields a tile response reads (TileSource.for_layer, the collection id, the response's
# scope): a tile's layer lookup loads only these (the extent, titles and the city's geometries cost
# the database about a third of a small tile's render to send and Django to convert).
TILE_LAYER_FIELDS = (
    "city",
    "city__slug",
    "slug",
    "theme",
    "visibility",
    "version",
    "fields",
    "single_precision",
    "created_at",
)


@dataclass(frozen=True)
class TileSource:
    """What one MVT layer of a tile is built from."""

    layer_id: int
    name: str  # MVT layer name: the collection id
    min_zoom: int = 0
    max_zoom: int = MAX_ZOOM
    priority_attribute: str | None = None
    version: int = 0  # the layer's version: part of the cache key, never of the SQL
    # When the layer row was created: ids and versions repeat when a database is rebuilt, this does not.
    created: str = ""
    brief_attributes: tuple[str, ...] | None = None  # None: every attribute at every zoom
    # The number attributes of a single-precision layer: their values go out as 4-byte floats.
    float_attributes: tuple[str, ...] = ()

    @classmethod
    def for_layer(cls, layer: Layer, theme: ThemeConfig | None) -> TileSource:
        floats = _float_attributes(layer)
        if theme is None:
            return cls(layer.pk, layer.collection_id, version=layer.version, created=_created(layer), float_attributes=floats)
        return cls(
            layer_id=layer.pk,
            name=layer.collection_id,
            min_zoom=theme.min_zoom,
            max_zoom=theme.max_zoom,
            priority_attribute=theme.priority_attribute,
            version=layer.version,
            created=_created(layer),
            brief_attributes=brief_attributes(theme),
            float_attributes=floats,
        )

    def shows_at(self, z: int) -> bool:
        return self.min_zoom <= z <= self.max_zoom


def _float_attributes(layer: Layer) -> tuple[str, ...]:
    if not layer.single_precision:
        return ()
    return tuple(sorted(name for name, kind in (layer.fields or {}).items() if kind == "number"))


def _created(layer: Layer) -> str:
    return layer.created_at.isoformat() if layer.created_at else ""


def brief_attributes(theme: ThemeConfig) -> tuple[str, ...]:
    """The attributes a low-zoom tile keeps: `name`, the priority attribute and any the style mentions
    (`ThemeConfig.attributes_in_style`: what the renderer can need at that zoom)."""
    kept = {*theme.attributes_in_style, "name"}
    if theme.priority_attribute:
        kept.add(theme.priority_attribute)
    return tuple(sorted(kept))


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


def tileset_key(sources: Sequence[TileSource]) -> str:
    """Hex digest over what every tile of a tile set depends on: the sources (ids, versions, rules), revision.

    A tile is a pure function of (tileset_key, z, x, y): the cache files it under that pair.
    """
    items = sorted(repr(source) for source in sources)
    return hashlib.sha256(repr((RENDER_REVISION, items)).encode()).hexdigest()[:32]


def tile_key(*, sources: Sequence[TileSource], z: int, x: int, y: int) -> str:
    """Hex digest over everything a tile depends on: its tile set's key, z, x and y (the tile's ETag)."""
    return tile_key_in(tileset_key(sources), z=z, x=x, y=y)


def tile_key_in(set_key: str, *, z: int, x: int, y: int) -> str:
    return hashlib.sha256(f"{set_key}/{z}/{x}/{y}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class TileStatement:
    """The one SQL statement of a tile (positional parameters) and the MVT layers whose doubles go out as floats.

    Two statements are equal exactly when they ask the database for the same tile of the same layers.
    """

    sql: str
    params: tuple[Any, ...]
    float_layers: tuple[str, ...]


def tile_statement(
    *, sources: Sequence[TileSource], z: int, x: int, y: int, feature_cap: int = FEATURE_CAP
) -> TileStatement | None:
    """The statement that renders tile z/x/y with one MVT layer per source shown at z; None when none is.

    Every source's `ST_AsMVT` result is concatenated in the same statement
    (concatenated MVT messages are a valid MVT message). The statement is a
    scalar query, so it can also be a subquery of another (`layers.selectors.public_layer_and_tile`).
    """
    tile_check(z=z, x=x, y=y)
    shown = [source for source in sources if source.shows_at(z)]
    if not shown:
        return None
    params: dict[str, Any] = {"z": z, "x": x, "y": y}
    parts = []
    for index, source in enumerate(shown):
        parts.append(f"COALESCE(({_layer_sql(index, source, z)}), ''::bytea)")
        params[f"layer_{index}"] = source.layer_id
        params[f"name_{index}"] = source.name
        params[f"cap_{index}"] = feature_cap
        if source.priority_attribute:
            params[f"priority_{index}"] = source.priority_attribute
        for number, name in enumerate(_kept_attributes(source, z) or ()):
            params[f"attr_{index}_{number}"] = name
    if z < DETAIL_ZOOM:
        pixel = WORLD_M / 2**z / 512  # one CSS pixel of a 512-px vector tile, in metres
        params["tolerance"] = pixel / 2
        params["min_area"] = (2 * pixel) ** 2  # one pixel of a 256-px WebMercatorQuad tile
    sql, ordered = _positional(f"{_TILE_CTE} SELECT {' || '.join(parts)}", params)
    floats = tuple(source.name for source in shown if _sends_floats(source, z))
    return TileStatement(sql=sql, params=ordered, float_layers=floats)


def _positional(sql: str, params: dict[str, Any]) -> tuple[str, tuple[Any, ...]]:
    """`%(name)s` placeholders as `%s` with their values in order (a statement that nests in others' SQL)."""
    ordered: list[Any] = []

    def placeholder(match: re.Match[str]) -> str:
        ordered.append(params[match.group(1)])
        return "%s"

    return _NAMED.sub(placeholder, sql), tuple(ordered)


_NAMED = re.compile(r"%\((\w+)\)s")


def tile_finish(raw: bytes | memoryview | None, statement: TileStatement) -> bytes:
    """The tile's bytes from what the statement returned: b"" when empty, floats where the layer sends them."""
    tile = bytes(raw) if raw is not None else b""
    return doubles_as_floats(tile, layers=list(statement.float_layers)) if tile and statement.float_layers else tile


def render_tile(*, sources: Sequence[TileSource], z: int, x: int, y: int, feature_cap: int = FEATURE_CAP) -> bytes:
    """The MVT bytes of tile z/x/y with one layer per source shown at z; b"" when the tile is empty."""
    statement = tile_statement(sources=sources, z=z, x=x, y=y, feature_cap=feature_cap)
    if statement is None:
        return b""
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, statement.params)
        row = cursor.fetchone()
    return tile_finish(row[0] if row else None, statement)


def _sends_floats(source: TileSource, z: int) -> bool:
    """Whether the source's tile layer at z may hold numbers to send as floats (any attribute kept)."""
    kept = _kept_attributes(source, z)
    return bool(source.float_attributes) and (kept is None or not set(kept).isdisjoint(source.float_attributes))


# The tile envelope: the index search on (layer_id, geom_3857) and the clipping.
_TILE_CTE = """
WITH tile AS MATERIALIZED (SELECT ST_TileEnvelope(%(z)s::int, %(x)s::int, %(y)s::int) AS box3857)"""


def _kept_attributes(source: TileSource, z: int) -> tuple[str, ...] | None:
    """The attributes sent at zoom z; None for all of them."""
    return source.brief_attributes if z < BRIEF_BELOW_ZOOM else None


def _properties_sql(index: int, source: TileSource, z: int) -> str:
    """The jsonb of attributes sent at z; a key whose value is missing becomes JSON null, which ST_AsMVT skips."""
    kept = _kept_attributes(source, z)
    if kept is None:
        return "f.properties"
    if not kept:
        return "'{}'::jsonb"
    pairs = ", ".join(f"%(attr_{index}_{n})s::text, f.properties -> %(attr_{index}_{n})s::text" for n in range(len(kept)))
    return f"jsonb_build_object({pairs})"


def _layer_sql(index: int, source: TileSource, z: int) -> str:
    """The scalar subquery that yields one source's MVT layer (parameters suffixed by `index`)."""
    simplified = (
        f"CASE WHEN ST_NPoints(f.geom_3857) > {SIMPLIFY_FROM_POINTS}"
        " THEN ST_Simplify(f.geom_3857, %(tolerance)s, true) ELSE f.geom_3857 END"
    )
    geom = simplified if z < DETAIL_ZOOM else "f.geom_3857"
    drop_small = "AND (ST_Dimension(f.geom_3857) < 2 OR ST_Area(f.geom_3857) >= %(min_area)s)" if z < DETAIL_ZOOM else ""
    order = f"ORDER BY f.properties -> %(priority_{index})s ASC NULLS LAST, f.id" if source.priority_attribute else ""
    # Features that meet the tile itself: one lying wholly in the buffer would only be drawn outside
    # the tile, where MapLibre clips fills and lines and drops symbols anchored there. The buffer
    # still keeps the edges of what crosses the tile border seamless. A box inside the tile (most
    # features) settles it without the exact test; CASE, not OR, keeps the planner from turning the
    # test into two more index scans and a bitmap heap scan (measured: 10-20% slower tiles).
    return f"""
        SELECT ST_AsMVT(mvt, %(name_{index})s, {EXTENT}, 'geom') FROM (
            SELECT {_properties_sql(index, source, z)} AS properties,
                   ST_AsMVTGeom({geom}, tile.box3857, {EXTENT}, {BUFFER}, true) AS geom
            FROM tile CROSS JOIN layers_feature AS f
            WHERE f.layer_id = %(layer_{index})s::bigint AND f.geom_3857 && tile.box3857
              AND CASE WHEN f.geom_3857 @ tile.box3857 THEN true ELSE ST_Intersects(f.geom_3857, tile.box3857) END {drop_small}
            {order}
            LIMIT %(cap_{index})s
        ) AS mvt WHERE mvt.geom IS NOT NULL"""
