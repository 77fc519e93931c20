"""Feature reads: PostGIS writes the GeoJSON text of a whole page in one query.

No ORM object is built per feature: the database concatenates each feature's
GeoJSON (geometry from ST_AsGeoJSON, transformed to the requested CRS in the
same query, properties straight from the JSONB column) and aggregates the
page, and the caller passes that text through. Paging is keyset on Feature.id
(the (layer_id, id) btree), so page N costs what page 1 costs; a bbox filter
uses the (layer_id, geom) GiST index. A `sortby` other than the id order pages
by offset instead (the caller encodes it in the cursor).
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError, connection, transaction

from layers.crs import CRS84, STORAGE_SRID, Crs
from layers.errors import InvalidParameter

# Densify each edge of a bbox-crs box into this many pieces before transforming it:
# a straight edge in a projected CRS is a curve in longitude/latitude.
_BOX_SEGMENTS = 64


@dataclass(frozen=True)
class BBox:
    """A box in `srid`, as x = east / longitude, y = north / latitude (the caller has undone any axis swap)."""

    minx: float
    miny: float
    maxx: float
    maxy: float
    srid: int = STORAGE_SRID

    def params(self) -> list[float]:
        return [self.minx, self.miny, self.maxx, self.maxy]


@dataclass(frozen=True)
class SqlFragment:
    """SQL text over `layers_feature AS f` with its parameters, kept apart."""

    sql: str
    params: list[Any] = field(default_factory=list)


@dataclass(frozen=True)
class SortKey:
    expression: SqlFragment  # typed expression of a property
    descending: bool


@dataclass(frozen=True)
class Output:
    """How each feature is written: CRS, the subset of properties, whether to leave the geometry out."""

    crs: Crs = CRS84
    properties: tuple[str, ...] | None = None
    skip_geometry: bool = False
    # National collections: feature id = '{prefix}:{fid}', the prefix (a city slug) looked up by layer id.
    id_prefixes: tuple[tuple[int, str], ...] | None = None


@dataclass(frozen=True)
class FeaturePage:
    features_json: str  # a JSON array of GeoJSON Features, as text
    number_returned: int
    last_id: int | None  # Feature.id of the last feature, the keyset for the next page
    has_more: bool


def _geometry_json(output: Output) -> SqlFragment:
    if output.skip_geometry:
        return SqlFragment("'null'")
    geom, params = "f.geom", []
    if output.crs.srid != STORAGE_SRID:
        geom, params = f"ST_Transform({geom}, %s::integer)", [output.crs.srid]
    if output.crs.northing_first:
        geom = f"ST_FlipCoordinates({geom})"
    # options 0: no "crs" member (PostGIS adds one for SRIDs other than 4326; RFC 7946 has none).
    return SqlFragment(f"coalesce(ST_AsGeoJSON({geom}, %s::integer, 0), 'null')", [*params, output.crs.decimals])


def _properties_json(output: Output) -> SqlFragment:
    if output.properties is None:
        return SqlFragment("coalesce(f.properties::text, '{}')")
    subset = "(SELECT jsonb_object_agg(e.key, e.value) FROM jsonb_each(f.properties) AS e WHERE e.key = ANY(%s))"
    return SqlFragment(f"coalesce({subset}::text, '{{}}')", [list(output.properties)])


def _feature_json(output: Output) -> SqlFragment:
    """GeoJSON of one layers_feature row `f`, as text; `id` is the stable source id (fid), escaped by to_json()."""
    geometry, properties = _geometry_json(output), _properties_json(output)
    fid, fid_params = "f.fid", []
    if output.id_prefixes is not None:
        fid = "(%s::text[])[array_position(%s::bigint[], f.layer_id::bigint)] || ':' || f.fid"
        fid_params = [[p for _, p in output.id_prefixes], [i for i, _ in output.id_prefixes]]
    sql = (
        f"""'{{"type":"Feature","id":' || to_json({fid})::text"""
        f""" || ',"geometry":' || {geometry.sql} || ',"properties":' || {properties.sql} || '}}'"""
    )
    return SqlFragment(sql, fid_params + geometry.params + properties.params)


def feature_geojson_of_outer_layer(output: Output) -> SqlFragment:
    """A scalar subquery for `access.public_layer_with`: the GeoJSON text of the feature whose fid is its
    last parameter, in the layer of the enclosing query's "layers_layer" row (NULL when there is none)."""
    feature = _feature_json(output)
    return SqlFragment(
        f'SELECT {feature.sql} FROM layers_feature AS f WHERE f.layer_id = "layers_layer"."id" AND f.fid = %s',
        feature.params,
    )


def bbox_condition(bbox: BBox) -> SqlFragment:
    """Features intersecting the box; a box in another CRS is transformed as an area (densified edges)."""
    box, params = "ST_MakeEnvelope(%s, %s, %s, %s, %s::integer)", [*bbox.params(), bbox.srid]
    if bbox.srid != STORAGE_SRID:
        step = max(bbox.maxx - bbox.minx, bbox.maxy - bbox.miny) / _BOX_SEGMENTS or 1.0
        box = f"ST_Transform(ST_Segmentize({box}, %s), {STORAGE_SRID})"
        params.append(step)
    # && lets the planner use the GiST index (the box is a constant, folded at plan time);
    # ST_Intersects keeps features touching the edge.
    return SqlFragment(f"f.geom && {box} AND ST_Intersects(f.geom, {box})", params + params)


def feature_page_geojson(
    *,
    layer_ids: list[int] | int,
    limit: int,
    after_id: int | None = None,
    offset: int = 0,
    bbox: BBox | None = None,
    conditions: list[SqlFragment] | None = None,
    sort: list[SortKey] | None = None,
    output: Output | None = None,
) -> FeaturePage:
    """One page of features ordered by Feature.id (or `sort`, then id), with `has_more` from fetching limit+1 rows."""
    ids = [layer_ids] if isinstance(layer_ids, int) else list(layer_ids)
    where = [SqlFragment("f.layer_id = ANY(%s)", [ids]) if len(ids) > 1 else SqlFragment("f.layer_id = %s", ids)]
    if after_id is not None:
        where.append(SqlFragment("f.id > %s", [after_id]))
    if bbox is not None:
        where.append(bbox_condition(bbox))
    where += conditions or []
    order_sql, order_params = _order_by(sort or [])
    out = output or Output()
    feature = _feature_json(out)
    last = offset + limit  # row_number() counts the skipped rows too
    sql = f"""
        WITH page AS (
            SELECT f.id, f.layer_id, f.fid, f.geom, f.properties, row_number() OVER (ORDER BY {order_sql}) AS n
            FROM layers_feature AS f
            WHERE {" AND ".join(f"({w.sql})" for w in where)}
            ORDER BY {order_sql} LIMIT %s OFFSET %s
        )
        SELECT coalesce('[' || string_agg({feature.sql}, ',' ORDER BY f.n) FILTER (WHERE f.n <= %s) || ']', '[]'),
               count(*) FILTER (WHERE f.n <= %s),
               (array_agg(f.id ORDER BY f.n DESC) FILTER (WHERE f.n <= %s))[1],
               count(*) > %s
        FROM page AS f
    """
    params: list[Any] = [*order_params]
    for w in where:
        params += w.params
    params += [*order_params, limit + 1, offset, *feature.params, last, last, last, limit]
    blame = "bbox" if bbox is not None and bbox.srid != STORAGE_SRID else "filter" if conditions else "crs"
    guarded = blame != "crs" or out.crs.srid != STORAGE_SRID
    features_json, returned, last_id, has_more = _fetch_one(sql, params, guard=blame if guarded else None)
    return FeaturePage(features_json=features_json, number_returned=returned, last_id=last_id, has_more=bool(has_more))


def _order_by(sort: list[SortKey]) -> tuple[str, list[Any]]:
    parts, params = [], []
    for key in sort:
        parts.append(f"{key.expression.sql} {'DESC NULLS LAST' if key.descending else 'ASC NULLS LAST'}")
        params += key.expression.params
    parts.append("f.id")
    return ", ".join(parts), params


def feature_get_geojson(*, layer_id: int, fid: str, output: Output | None = None) -> str | None:
    """The GeoJSON Feature text of `fid` in the layer, or None when there is no such feature."""
    feature = _feature_json(output or Output())
    sql = f"SELECT {feature.sql} FROM layers_feature AS f WHERE f.layer_id = %s AND f.fid = %s"
    guarded = output is not None and output.crs.srid != STORAGE_SRID
    row = _fetch_one(sql, [*feature.params, layer_id, fid], guard="crs" if guarded else None)
    return row[0] if row else None


def _fetch_one(sql: str, params: list[Any], *, guard: str | None) -> Any:
    """Run the one query; when it transforms coordinates the caller sent (or asked for), a PROJ failure
    (a point outside the CRS's domain) is the request's fault: 400 naming `guard`, inside a savepoint
    so that the rest of the transaction survives."""
    if guard is None:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()
    try:
        with transaction.atomic() if connection.in_atomic_block else nullcontext(), connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()
    except DatabaseError as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "transform" not in message and "projection" not in message and "coordinate" not in message:
            raise
        raise InvalidParameter(
            guard,
            f"{guard}: coordinates cannot be transformed between the CRSs of this request ({message}).",
            hint="Check the coordinates are inside the area of the CRS, in its official axis order.",
        ) from None
