"""Writes to the registry, one transaction each. Feature writes belong to `ingest/services.py`."""

from __future__ import annotations

from django.contrib.gis.geos import Point, Polygon
from django.db import transaction

from config.loader import CityConfig, Config, ThemeConfig
from layers.errors import InvalidParameter
from layers.models import City, Layer, Visibility


def _city_defaults(city: CityConfig, order: int) -> dict[str, object]:
    return {
        "name": dict(city.name),
        "oblast": dict(city.oblast),
        "population": city.population,
        "population_year": city.population_year,
        "centre": Point(*city.centre, srid=4326),
        "extent": Polygon.from_bbox(city.extent),
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
    if visibility is not None and visibility not in Visibility.values:
        raise InvalidParameter("visibility", f"Visibility {visibility!r} is not one of {', '.join(Visibility.values)}.")
    layer, created = Layer.objects.select_for_update().get_or_create(
        city=city,
        slug=slug,
        defaults={"theme": theme.slug, "title": title or dict(theme.title), "geometry_type": theme.geometry_type},
    )
    if not created and layer.theme != theme.slug:
        raise InvalidParameter(
            "theme",
            f"Layer {layer.collection_id!r} already exists with theme {layer.theme!r}, not {theme.slug!r}.",
            hint=f"Use --theme {layer.theme}, or a different --layer slug.",
        )
    changes = {
        k: v
        for k, v in {"visibility": visibility, "attribution": attribution, "license": license, "title": title}.items()
        if v is not None and getattr(layer, k) != v
    }
    if changes:
        for key, value in changes.items():
            setattr(layer, key, value)
        layer.save(update_fields=[*changes, "updated_at"])
    return layer


@transaction.atomic
def layer_set_visibility(*, layer: Layer, visibility: str) -> Layer:
    if visibility not in Visibility.values:
        raise InvalidParameter("visibility", f"Visibility {visibility!r} is not one of {', '.join(Visibility.values)}.")
    layer.visibility = visibility
    layer.save(update_fields=["visibility", "updated_at"])
    return layer
