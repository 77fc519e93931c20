"""Writes to the registry, one transaction each. Imports belong to `ingest/services.py`, single-feature edits
to `layers/services_features.py`."""

from __future__ import annotations

import logging
import time
from typing import Any, cast

from django.contrib.gis.geos import Point, Polygon
from django.db import connection, transaction

from config.loader import CityConfig, Config, ThemeConfig
from layers import partitions
from layers.errors import InvalidParameter
from layers.models import City, Layer, Visibility
from layers.queryables import layer_queryables, queryable_types
from layers.services_access import audit_write
from layers.temporal import time_extent

log = logging.getLogger(__name__)


def _bbox_polygon(bbox: tuple[float, float, float, float]) -> Polygon:
    polygon = Polygon.from_bbox(bbox)
    polygon.srid = 4326  # from_bbox sets none; without it the row never compares equal
    return polygon


def _city_defaults(city: CityConfig, order: int) -> dict[str, object]:
    return {
        "name": dict(city.name),
        "oblast": dict(city.oblast),
        "population": city.population,
        "population_year": city.population_year,
        "centre": Point(*city.centre, srid=4326),
        "extent": _bbox_polygon(city.extent),
        "local_crs": [{"name": c.name, "title": c.title, "srid": c.srid} for c in city.local_crs],
        "is_sample": city.is_sample,
        "sort_order": order,
    }


@transaction.atomic
def cities_sync(*, config: Config) -> tuple[int, int]:
    """Register every configured city (and the sample city); returns (created, updated).

    Only rows whose values differ are written, so running it again changes nothing.
    """
    created = updated = 0
    every = [*config.cities, *([config.sample_city] if config.sample_city else [])]
    for order, city in enumerate(every):
        defaults = _city_defaults(city, order)
        row = City.objects.filter(slug=city.slug).first()
        if row is None:
            City.objects.create(slug=city.slug, **defaults)
            created += 1
            continue
        changed = [k for k, v in defaults.items() if getattr(row, k) != v]
        if changed:
            for key in changed:
                setattr(row, key, defaults[key])
            row.save(update_fields=changed)
            updated += 1
    return created, updated


def _check_visibility(visibility: str) -> None:
    if visibility not in Visibility.values:
        raise InvalidParameter("visibility", f"Visibility {visibility!r} is not one of {', '.join(Visibility.values)}.")


@transaction.atomic
def layer_ensure(
    *,
    city: City | None,
    slug: str,
    theme: ThemeConfig,
    title: dict[str, str] | None = None,
    visibility: str | None = None,
    attribution: str | None = None,
    license: str | None = None,
) -> Layer:
    """The layer (city, slug), created with the theme's defaults when new."""
    if visibility is not None:
        _check_visibility(visibility)
    given = {"visibility": visibility, "attribution": attribution, "license": license, "title": title}
    given = {k: v for k, v in given.items() if v is not None}
    layer, created = Layer.objects.select_for_update().get_or_create(
        city=city,
        slug=slug,
        defaults={"theme": theme.slug, "title": dict(theme.title), "geometry_type": theme.geometry_type, **given},
    )
    if created:
        return layer
    if layer.theme != theme.slug:
        raise InvalidParameter(
            "theme",
            f"Layer {layer.collection_id!r} already exists with theme {layer.theme!r}, not {theme.slug!r}.",
            hint=f"Use --theme {layer.theme}, or a different --layer slug.",
        )
    changes = {k: v for k, v in given.items() if k != "visibility" and getattr(layer, k) != v}
    if changes:
        for key, value in changes.items():
            setattr(layer, key, value)
        layer.save(update_fields=[*changes, "updated_at"])
    if visibility is not None and visibility != layer.visibility:
        layer_set_visibility(layer=layer, visibility=visibility, actor="import")
    return layer


@transaction.atomic
def layer_set_visibility(*, layer: Layer, visibility: str, user: Any = None, actor: str = "") -> Layer:
    """Change who may see the layer; recorded in the audit log (`user` or `actor` says who)."""
    _check_visibility(visibility)
    previous = layer.visibility
    layer.visibility = visibility
    # A visibility change alters who may see the layer's tiles: bump the version
    # so no cached tile or versioned URL from before is served again.
    layer.version += 1
    layer.save(update_fields=["visibility", "version", "updated_at"])
    details = {"from": previous, "to": visibility, "version": layer.version}
    audit_write(user=user, actor=actor, action="layer.set_visibility", target=layer.collection_id, details=details)
    return layer


@transaction.atomic
def layer_delete(*, layer: Layer, user: Any = None, actor: str = "") -> None:
    """Delete a layer with its features, search rows and change log; recorded in the audit log.

    A large layer's own partition is dropped as a table (partitions.drop_own) rather than emptied row
    by row; the rest cascades. The layer's public tiles go with the row (layers.signals).
    """
    target = layer.collection_id
    partitions.drop_own(layer_id=layer.pk)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM layers_searchentry WHERE layer_id = %s", [layer.pk])
    features = layer.feature_count
    layer.delete()
    audit_write(user=user, actor=actor, action="layer.delete", target=target, details={"features": features})


def layer_time_extent(*, layer: Layer, theme: ThemeConfig | None, table: str = "layers_feature") -> list[str | None] | None:
    """[first, last] of the theme's time attribute over the layer's features (None: no feature has one).

    Kept on the layer row for its current version: computing it is a scan of the whole layer, which a
    collection document must not repeat per process and request. An import stores it (ingest) and a
    version without one (a feature edit, older data) computes and stores it on first use. `table`: where
    the features are (an import's new partition, before it is attached). The row is
    updated in place, not saved, so no layer-change signal fires for what is only a derived value.
    """
    if theme is None or theme.temporal is None:
        return None
    stored = layer.time_extent or {}
    if stored.get("version") == layer.version:
        return cast("list[str | None] | None", stored.get("interval"))
    kinds = queryable_types(layer_queryables(layer.fields or {}, theme))
    interval = time_extent([layer.pk], theme.temporal, kinds, table=table)
    layer.time_extent = {"version": layer.version, "interval": interval}
    Layer.objects.filter(pk=layer.pk, version=layer.version).update(time_extent=layer.time_extent)
    return interval


@transaction.atomic
def layer_spatial_order(*, layer_id: int, version: int) -> bool:
    """Store the layer's features in spatial order (partitions.reorder); False when there was nothing to do.

    Queued by a large replace-import for after its commit, and run by `geoportal layer optimize`.
    Nothing to do: the layer is gone, it is no longer at `version` (a newer import queued its own
    ordering), or it has no partition of its own. The features, their ids and the version stay as
    they are, so every cached tile and ETag stays valid. The layer row is locked for the whole
    rewrite: imports and feature edits of the layer wait for it; readers only for the swap.
    """
    started = time.monotonic()
    layer = Layer.objects.select_for_update(of=("self",)).filter(pk=layer_id).first()
    if layer is None or layer.version != version:
        log.info("layer %s: not at version %s any more, spatial ordering skipped", layer_id, version)
        return False
    if not partitions.reorder(layer_id=layer_id):
        log.info("layer %s: no partition of its own, spatial ordering skipped", layer_id)
        return False
    log.info(
        "layer %s (version %s): %s features stored in spatial order in %.1f s",
        layer_id,
        version,
        layer.feature_count,
        time.monotonic() - started,
    )
    return True
