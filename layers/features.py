"""Feature reads: PostGIS writes the GeoJSON text of a whole page in one query.

No ORM object is built per feature: the database concatenates each feature's
GeoJSON (geometry from ST_AsGeoJSON, properties straight from the JSONB
column) and aggregates the page, and the caller passes that text through.
Paging is keyset on Feature.id (the (layer_id, id) btree), so page N costs
what page 1 costs; a bbox filter uses the (layer_id, geom) GiST index.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

# GeoJSON of one layers_feature row `f`, as text. `id` is the stable source id
# (fid); to_json() escapes it; 7 decimals of a degree ≈ 1 cm.
_FEATURE_JSON = (
    """'{"type":"Feature","id":' || to_json(f.fid)::text"""
    """ || ',"geometry":' || coalesce(ST_AsGeoJSON(f.geom, 7), 'null')"""
    """ || ',"properties":' || coalesce(f.properties::text, '{}') || '}'"""
)


@dataclass(frozen=True)
class BBox:
    """A lon/lat box in CRS84; the caller has validated it (min <= max, finite, in range)."""

    minx: float
    miny: float
    maxx: float
    maxy: float

    def params(self) -> list[float]:
        return [self.minx, self.miny, self.maxx, self.maxy]


@dataclass(frozen=True)
class FeaturePage:
    features_json: str  # a JSON array of GeoJSON Features, as text
    number_returned: int
    last_id: int | None  # Feature.id of the last feature, the keyset for the next page
    has_more: bool


def feature_page_geojson(
    *, layer_id: int, limit: int, after_id: int | None = None, offset: int = 0, bbox: BBox | None = None
) -> FeaturePage:
    """One page of a layer's features ordered by Feature.id, with `has_more` from fetching limit+1 rows."""
    where = ["layer_id = %s"]
    params: list[int | float] = [layer_id]
    if after_id is not None:
        where.append("id > %s")
        params.append(after_id)
    if bbox is not None:
        # && lets the planner use the GiST index; ST_Intersects keeps features touching the edge.
        where.append("geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326)")
        where.append("ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))")
        params += bbox.params() + bbox.params()
    sql = f"""
        WITH page AS (
            SELECT id, fid, geom, properties, row_number() OVER (ORDER BY id) AS n
            FROM (
                SELECT id, fid, geom, properties FROM layers_feature
                WHERE {" AND ".join(where)}
                ORDER BY id LIMIT %s OFFSET %s
            ) AS rows
        )
        SELECT coalesce('[' || string_agg({_FEATURE_JSON}, ',' ORDER BY f.id) FILTER (WHERE f.n <= %s) || ']', '[]'),
               count(*) FILTER (WHERE f.n <= %s),
               max(f.id) FILTER (WHERE f.n <= %s),
               count(*) > %s
        FROM page AS f
    """
    params += [limit + 1, offset, limit, limit, limit, limit]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        features_json, returned, last_id, has_more = cursor.fetchone()
    return FeaturePage(features_json=features_json, number_returned=returned, last_id=last_id, has_more=bool(has_more))


def feature_get_geojson(*, layer_id: int, fid: str) -> str | None:
    """The GeoJSON Feature text of `fid` in the layer, or None when there is no such feature."""
    sql = f"SELECT {_FEATURE_JSON} FROM layers_feature AS f WHERE f.layer_id = %s AND f.fid = %s"
    with connection.cursor() as cursor:
        cursor.execute(sql, [layer_id, fid])
        row = cursor.fetchone()
    return row[0] if row else None
