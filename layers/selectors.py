"""Reads of the registry. Feature and tile queries live in `layers/features.py` and `layers/tiles.py`."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from layers.access import principal_of, public_layer_with, visible_layer, visible_layers
from layers.collections import collection_not_found, split_collection_id
from layers.errors import NotFound
from layers.features import Output, feature_geojson_of_outer_layer, feature_get_geojson
from layers.models import City, Layer


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


def layer_find(*, city: City | None, slug: str) -> Layer | None:
    """Any layer by city and slug, regardless of visibility (for writers and the CLI)."""
    return Layer.objects.filter(city=city, slug=slug).first()
