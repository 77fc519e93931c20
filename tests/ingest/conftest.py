"""Real files made on the fly (GeoJSON written by hand, the rest with ogr2ogr) and a shortcut to the CLI."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

Feature = tuple[Any, dict[str, Any] | None, dict[str, Any]]  # (id or None, GeoJSON geometry or None, properties)


def write_geojson(path: Path, features: list[Feature], *, crs: str | None = None) -> Path:
    collection: dict[str, Any] = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", **({"id": fid} if fid is not None else {}), "geometry": geometry, "properties": props}
            for fid, geometry, props in features
        ],
    }
    if crs:
        collection["crs"] = {"type": "name", "properties": {"name": crs}}
    path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    return path


def ogr2ogr(*args: str | Path) -> None:
    subprocess.run(["ogr2ogr", *map(str, args)], check=True, capture_output=True)


def square(x: float, y: float, size: float = 0.001) -> dict[str, Any]:
    ring = [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]
    return {"type": "Polygon", "coordinates": [ring]}


@pytest.fixture
def ingest_cli(cities: Any) -> Callable[..., str]:
    """call_command('ingest', …) returning what it printed."""

    def run(*args: str | Path, **options: Any) -> str:
        out = StringIO()
        call_command("ingest", *map(str, args), stdout=out, **options)
        return out.getvalue()

    return run


@pytest.fixture
def two_buildings_geojson(tmp_path: Path) -> Path:
    return write_geojson(
        tmp_path / "two_buildings.geojson",
        [(1, square(27.55, 53.90), {"name": "A", "Floors": "5"}), (2, square(27.56, 53.90), {"name": "B", "Floors": 9})],
    )


@pytest.fixture(autouse=True)
def uploads_in_tmp(settings: Any, tmp_path: Path) -> None:
    """Uploads made by the API/admin tests go to the test's own directory, not the data directory."""
    settings.GEOPORTAL_UPLOAD_DIR = tmp_path / "uploads"
