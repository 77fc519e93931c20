"""Edits of single features (the admin's add/change/delete): each one transaction that bumps the layer version.

A layer's version is what every cache key, ETag, versioned tile URL and the nginx public tile tree
hang on (layers.tiles.tile_key, geoportal.tiles.public): a feature saved without bumping it would
leave old tiles and item ETags valid. Each edit also records its FeatureChange (the change feed),
refreshes the feature's search rows and writes an audit entry.
"""

from __future__ import annotations

from typing import Any

from django.contrib.gis.geos import GEOSGeometry, Polygon
from django.db import transaction

from layers.access import can_write
from layers.errors import Forbidden
from layers.fields import fits_single_precision, json_type
from layers.models import ChangeOp, Feature, FeatureChange, Layer
from layers.search import search_index_feature
from layers.services_access import audit_write


def _check_write(*, user: Any, layer: Layer) -> None:
    if user is not None and not getattr(user, "is_superuser", False) and not can_write(user=user, layer=layer):
        raise Forbidden(f"You may not edit the features of {layer.collection_id!r}.", hint="Ask for the editor role.")


def _locked_layer(*, layer_id: int) -> Layer:
    """The layer row, locked until commit: edits and imports of one layer are serialised."""
    return Layer.objects.select_for_update(of=("self",)).select_related("city").get(pk=layer_id)


def _grow_extent(layer: Layer, geom: GEOSGeometry) -> None:
    box = Polygon.from_bbox(geom.extent)
    box.srid = 4326
    layer.extent = box if layer.extent is None else Polygon.from_bbox(layer.extent.union(box).extent)
    layer.extent.srid = 4326


@transaction.atomic
def feature_save(*, feature: Feature, user: Any = None) -> Feature:
    """Insert or update one feature; the layer's version, extent and count follow in the same transaction."""
    layer = _locked_layer(layer_id=feature.layer_id)
    _check_write(user=user, layer=layer)
    created = feature.pk is None
    feature.save()
    _grow_extent(layer, feature.geom)
    _learn_fields(layer, feature.properties)
    layer.feature_count += 1 if created else 0
    layer.version += 1  # the row is locked: no concurrent bump in between
    layer.save(update_fields=["version", "extent", "feature_count", "fields", "single_precision", "updated_at"])
    op = ChangeOp.INSERT if created else ChangeOp.UPDATE
    FeatureChange.objects.create(layer=layer, version=layer.version, op=op, fid=feature.fid)
    search_index_feature(feature_id=feature.pk, layer_id=feature.layer_id, properties=feature.properties)
    audit_write(
        user=user,
        action=f"feature.{op}",
        target=f"{layer.collection_id}/{feature.fid}",
        details={"version": layer.version},
    )
    return feature


def _learn_fields(layer: Layer, properties: dict[str, Any] | None) -> None:
    """An attribute the edit brings in joins the layer's field list (queryables, TileJSON list them).

    Known attributes keep their type: a theme's date attribute is stored as an ISO string and must not
    turn into "string" because an edit wrote one.
    """
    new = {name: json_type(value) for name, value in (properties or {}).items() if value is not None}
    layer.fields = {**new, **(layer.fields or {})}
    # A number no 4-byte float holds: from now on the layer's tiles send doubles (until a replace import).
    layer.single_precision = layer.single_precision and fits_single_precision(properties or {})


@transaction.atomic
def feature_delete(*, feature: Feature, user: Any = None) -> None:
    """Delete one feature (its search rows go with it); the layer's version and count follow."""
    layer = _locked_layer(layer_id=feature.layer_id)
    _check_write(user=user, layer=layer)
    fid = feature.fid
    search_index_feature(feature_id=feature.pk, layer_id=layer.pk, properties=None)  # no rows: it is going
    Feature.objects.filter(layer_id=layer.pk, pk=feature.pk).delete()
    layer.feature_count = max(layer.feature_count - 1, 0)
    layer.version += 1
    layer.save(update_fields=["version", "feature_count", "updated_at"])
    FeatureChange.objects.create(layer=layer, version=layer.version, op=ChangeOp.DELETE, fid=fid)
    audit_write(user=user, action="feature.delete", target=f"{layer.collection_id}/{fid}", details={"version": layer.version})
