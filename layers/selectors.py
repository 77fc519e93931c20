"""Reads of the registry, and the features near a point (identify).

Feature pages (GeoJSON text written by PostGIS) and tiles live in `layers/features.py` and `layers/tiles.py`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from django.contrib.gis.db.models import GeometryField
from django.contrib.gis.db.models.functions import Area, AsGeoJSON, Distance
from django.contrib.gis.geos import Point, Polygon
from django.contrib.gis.measure import D
from django.db.models import BigIntegerField, QuerySet, Value
from django.db.models.functions import Cast

from layers.access import principal_of, public_layer_with, visible_layer, visible_layers
from layers.collections import collection_not_found, split_collection_id
from layers.crs import CRS84, STORAGE_SRID
from layers.errors import NotFound
from layers.features import Output, feature_geojson_of_outer_layer, feature_get_geojson
from layers.models import City, Feature, Layer
from layers.tiles import TILE_LAYER_FIELDS, TileStatement

# The shortest degree of latitude (at the equator) and the length of a degree of longitude on the
# equator, both on WGS 84, in metres: a box this many degrees around a point holds every point within
# the distance (a degree of longitude at latitude φ is at least cos φ times the equator's).
_MIN_METRES_PER_DEGREE_LATITUDE = 110_574.0
_METRES_PER_DEGREE_LONGITUDE_AT_EQUATOR = 111_319.0
_BOX_MARGIN = 1.01  # the geodesic is not quite the box's edge: keep a percent to spare


def city_list(*, include_sample: bool = True) -> QuerySet[City]:
    cities = City.objects.all()
    return cities if include_sample else cities.filter(is_sample=False)


def city_get(*, slug: str) -> City:
    city = City.objects.filter(slug=slug).first()
    if city is None:
        raise NotFound(f"City {slug!r} does not exist.", hint="See /ogc/collections or the city list at / for valid city slugs.")
    return city


def layer_list_visible(*, user: Any = None, city: City | None = None) -> QuerySet[Layer]:
    layers = visible_layers(user=user)
    return layers.filter(city=city) if city is not None else layers


def layer_get_visible(*, cid: str, user: Any = None) -> Layer:
    """The layer of collection `cid` if `user` may see it; NotFound otherwise (never says which)."""
    city_slug, slug = split_collection_id(cid)
    layer = visible_layer(user=user, city_slug=city_slug or None, slug=slug)
    if layer is None:
        raise collection_not_found(cid)
    return layer


def layer_and_feature_geojson(*, cid: str, fid: str, user: Any = None) -> tuple[Layer, str | None]:
    """The layer of collection `cid` if `user` may see it (NotFound otherwise, as `layer_get_visible`) and
    the GeoJSON text of its feature `fid` in CRS84 (None when there is no such feature).

    Anonymous callers — most single-item traffic — get both from one statement (one round trip):
    the feature is a scalar subquery of the public-layer lookup, so it is only read for a public layer.
    """
    city_slug, slug = split_collection_id(cid)
    if principal_of(user).user_id is None:
        feature = feature_geojson_of_outer_layer(Output())
        layer, text = public_layer_with(
            city_slug=city_slug or None, slug=slug, scalar_sql=feature.sql, scalar_params=[*feature.params, fid]
        )
        if layer is None:
            raise collection_not_found(cid)
        return layer, text
    layer = layer_get_visible(cid=cid, user=user)
    return layer, feature_get_geojson(layer_id=layer.id, fid=fid)


def public_layer_and_tile(*, cid: str, statement: TileStatement) -> tuple[Layer, Any]:
    """The public layer of collection `cid` (NotFound otherwise, as `layer_get_visible` for anonymous
    callers) and what the tile statement returned, from one statement: the tile is a scalar subquery
    of the public-layer lookup, evaluated only for a public layer's row, in the lookup's snapshot.

    The statement was built from what the caller believed the layer to be; whether it is the one the
    returned layer asks for is the caller's check (`geoportal.tiles.anonymous`).
    """
    city_slug, slug = split_collection_id(cid)
    layer, raw = public_layer_with(
        city_slug=city_slug or None,
        slug=slug,
        scalar_sql=statement.sql,
        scalar_params=statement.params,
        only=TILE_LAYER_FIELDS,
    )
    if layer is None:
        raise collection_not_found(cid)
    return layer, raw


def layer_find(*, city: City | None, slug: str) -> Layer | None:
    """Any layer by city and slug, regardless of visibility (for writers and the CLI)."""
    return Layer.objects.filter(city=city, slug=slug).first()


@dataclass(frozen=True)
class NearbyFeature:
    """A feature near a point: its stable source id, full geometry (GeoJSON in CRS84), properties and distance."""

    fid: str
    geometry: dict[str, Any] | None
    properties: dict[str, Any]
    distance_m: float


def layer_features_near(*, layer: Layer, lon: float, lat: float, tolerance_m: float, limit: int) -> list[NearbyFeature]:
    """Features of `layer` whose geometry lies within `tolerance_m` metres (geodesic, on WGS 84) of the
    point lon/lat, nearest first; a polygon containing the point is at 0 m. Ties go to the smaller area,
    then to the smaller fid, so the order is deterministic.

    The caller has checked that the layer is visible (`layer_get_visible`). The layer filter comes first
    and the bounding box second, so the (layer_id, geom) GiST index of the layer's partition finds the
    candidates; the exact distance is computed for those only.
    """
    # Measured as geography (on the spheroid): ST_DistanceSpheroid on geometries would measure a polygon
    # from its boundary even when it contains the point (PostGIS 3.3).
    geography = Cast("geom", GeometryField(srid=STORAGE_SRID, geography=True))
    rows = (
        # layer_id as bigint, the type of the column: the (layer_id, geom) GiST (btree_gist) searches on both
        # columns only then; a smaller integer type would leave it the box alone and AND in the primary key.
        Feature.objects.filter(
            layer_id=Cast(Value(layer.id), BigIntegerField()), geom__bboverlaps=_box_around(lon, lat, tolerance_m)
        )
        .annotate(distance=Distance(geography, Point(lon, lat, srid=STORAGE_SRID)))
        .filter(distance__lte=D(m=tolerance_m))
        .order_by("distance", Area(geography), "fid")
        .annotate(geometry=AsGeoJSON("geom", precision=CRS84.decimals))
        .values_list("fid", "geometry", "properties", "distance")[:limit]
    )
    return [
        NearbyFeature(
            fid=fid, geometry=json.loads(geometry) if geometry else None, properties=properties or {}, distance_m=distance.m
        )
        for fid, geometry, properties, distance in rows
    ]


def _box_around(lon: float, lat: float, metres: float) -> Polygon:
    """A lon/lat box holding every point within `metres` of lon/lat (a little more, never less)."""
    dlat = metres * _BOX_MARGIN / _MIN_METRES_PER_DEGREE_LATITUDE + 1e-9
    south, north = max(lat - dlat, -90.0), min(lat + dlat, 90.0)
    shortest = _METRES_PER_DEGREE_LONGITUDE_AT_EQUATOR * math.cos(math.radians(max(abs(south), abs(north))))
    dlon = metres * _BOX_MARGIN / shortest + 1e-9 if shortest > 1.0 else 360.0
    west, east = (lon - dlon, lon + dlon) if dlon < 180.0 else (-180.0, 180.0)
    box = Polygon.from_bbox((max(west, -180.0), south, min(east, 180.0), north))
    box.srid = STORAGE_SRID
    return box
