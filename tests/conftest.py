"""Shared fixtures. Tests talk to a real PostGIS (the embedded cluster, or DATABASE_URL)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.gis.geos import GEOSGeometry, Polygon
from django.db import connection

from layers.fields import json_type
from layers.models import City, Feature, Layer


def pytest_configure(config: pytest.Config) -> None:
    from geoportal import embedded_db
    from geoportal.env import get_env

    env = get_env()
    if env.database.embedded:
        embedded_db.start(env)


def real_file(path: Path) -> Path:
    """A real third-party file from ../shared/data (CI has it beside the clone); skip when it is absent.

    Those files cannot ship in the repository (several have no licence: see shared/data/SOURCES.md),
    so a clone without ../shared runs every other test and names the file it could not use.
    """
    if not path.exists():
        pytest.skip(f"real test file {path} is absent (it lives in ../shared/data, beside the clone in CI)")
    return path


@pytest.fixture(scope="session", autouse=True)
def _private_tile_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests render tiles into a cache of their own, never the installation's data dir."""
    from django.conf import settings

    settings.GEOPORTAL["TILE_CACHE_DIR"] = str(tmp_path_factory.mktemp("tile-cache"))  # type: ignore[assignment]


@pytest.fixture
def cities(db: None) -> dict[str, City]:
    """All configured cities (the 17 and the sample city), registered from config/cities.yaml."""
    from geoportal.config import project_config
    from layers.services import cities_sync

    cities_sync(config=project_config())
    return {c.slug: c for c in City.objects.all()}


FeatureSpec = tuple[str, str, dict[str, Any]]  # (fid, WKT in EPSG:4326, properties)


@pytest.fixture
def make_layer(cities: dict[str, City]) -> Callable[..., Layer]:
    """Create a layer with the given features directly in PostGIS (ORM), with extent, count and version set."""

    def factory(
        city: str | None,
        slug: str,
        theme: str,
        features: Iterable[FeatureSpec],
        *,
        visibility: str = "public",
        title: dict[str, str] | None = None,
    ) -> Layer:
        layer = Layer.objects.create(
            city=cities[city] if city else None,
            slug=slug,
            theme=theme,
            visibility=visibility,
            title=title or {"be": slug, "ru": slug, "en": slug},
            version=1,
        )
        rows = [
            Feature(layer=layer, fid=fid, geom=GEOSGeometry(wkt, srid=4326), properties=props) for fid, wkt, props in features
        ]
        Feature.objects.bulk_create(rows)
        with connection.cursor() as cursor:
            cursor.execute("SELECT ST_Extent(geom)::text FROM layers_feature WHERE layer_id = %s", [layer.id])
            box = cursor.fetchone()[0]
        if box:
            (minx, miny), (maxx, maxy) = (tuple(map(float, p.split())) for p in box[4:-1].split(","))
            layer.extent = Polygon.from_bbox((minx, miny, maxx, maxy))
        layer.feature_count = len(rows)
        layer.fields = {key: json_type(value) for row in rows for key, value in row.properties.items()}
        layer.save()
        return layer

    return factory
