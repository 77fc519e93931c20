"""--mode append / upsert / sync with --key: what changes, the change rows, the version, atomicity."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management.base import CommandError
from django.db import connection

from layers.models import FeatureChange, ImportRun, Layer
from tests.ingest.conftest import Feature, square, write_geojson

CliRunner = Callable[..., str]


def buildings(tmp_path: Path, name: str, rows: dict[str, tuple[float, Any]]) -> Path:
    """{code: (x, floors)} as a GeoJSON file without ids (the key field carries identity)."""
    features: list[Feature] = [(None, square(x, 53.9), {"code": code, "floors": floors}) for code, (x, floors) in rows.items()]
    return write_geojson(tmp_path / f"{name}.geojson", features)


def state(layer: Layer) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT fid, (properties->>'levels')::int FROM layers_feature WHERE layer_id = %s", [layer.pk])
        return dict(cursor.fetchall())


def changes(layer: Layer, version: int) -> list[tuple[str, str]]:
    return sorted(FeatureChange.objects.filter(layer=layer, version=version).values_list("op", "fid"))


def test_upsert_then_sync_records_each_change(ingest_cli: CliRunner, tmp_path: Path) -> None:
    key = ("--city", "minsk", "--theme", "buildings", "--key", "code")
    first = buildings(tmp_path, "v1", {"A": (27.50, 5), "B": (27.51, 9), "C": (27.52, 2)})
    ingest_cli(first, *key, "--mode", "upsert")
    layer = Layer.objects.get(city__slug="minsk", slug="buildings")
    assert (layer.version, state(layer)) == (1, {"A": 5, "B": 9, "C": 2})
    assert changes(layer, 1) == [("insert", "A"), ("insert", "B"), ("insert", "C")]

    second = buildings(tmp_path, "v2", {"B": (27.51, 10), "C": (27.52, 2), "D": (27.53, 1)})
    out = ingest_cli(second, *key, "--mode", "upsert")
    layer.refresh_from_db()
    run = ImportRun.objects.order_by("-id").first()
    assert run is not None and (run.inserted, run.updated, run.deleted) == (1, 1, 0)
    assert "upsert: 1 inserted, 1 updated, 0 deleted" in out
    assert (layer.version, layer.feature_count, state(layer)) == (2, 4, {"A": 5, "B": 10, "C": 2, "D": 1})
    assert changes(layer, 2) == [("insert", "D"), ("update", "B")]  # C was identical: no change row

    third = buildings(tmp_path, "v3", {"A": (27.50, 5), "D": (27.54, 1)})
    ingest_cli(third, *key, "--mode", "sync")
    layer.refresh_from_db()
    assert (layer.version, state(layer)) == (3, {"A": 5, "D": 1})
    assert changes(layer, 3) == [("delete", "B"), ("delete", "C"), ("update", "D")]  # D moved
    assert layer.extent is not None and layer.extent.extent[2] == pytest.approx(27.541)

    ingest_cli(third, *key, "--mode", "sync")  # identical file: a no-op, version unchanged
    layer.refresh_from_db()
    assert layer.version == 3 and ImportRun.objects.order_by("-id").first().status == "noop"  # type: ignore[union-attr]


def test_append_adds_features_with_run_scoped_ids(ingest_cli: CliRunner, tmp_path: Path, two_buildings_geojson: Path) -> None:
    ingest_cli(two_buildings_geojson, "--city", "minsk", "--theme", "buildings")
    more = buildings(tmp_path, "more", {"X": (27.6, 3)})
    ingest_cli(more, "--city", "minsk", "--theme", "buildings", "--mode", "append")
    layer = Layer.objects.get(city__slug="minsk", slug="buildings")
    run = ImportRun.objects.order_by("-id").first()
    assert run is not None and run.mode == "append" and run.inserted == 1
    assert (layer.version, layer.feature_count) == (2, 3)
    assert changes(layer, 2) == [("insert", f"{run.pk}.0")]
    assert set(state(layer)) == {"1", "2", f"{run.pk}.0"}


def test_failing_sync_leaves_the_layer_as_it_was(ingest_cli: CliRunner, tmp_path: Path) -> None:
    key = ("--city", "minsk", "--theme", "buildings", "--key", "code")
    ingest_cli(buildings(tmp_path, "v1", {"A": (27.50, 5), "B": (27.51, 9)}), *key, "--mode", "upsert")
    rows: list[Feature] = [
        (None, square(27.5, 53.9), {"code": "A", "floors": 6}),
        (None, {"type": "Point", "coordinates": [27.5, 91]}, {"code": "Z"}),
    ]
    bad = write_geojson(tmp_path / "bad_last_feature.geojson", rows)
    with pytest.raises(CommandError, match=r"feature 2: coordinate \(27.5, 91.0\)"):
        ingest_cli(bad, *key, "--mode", "sync")
    layer = Layer.objects.get(city__slug="minsk", slug="buildings")
    assert (layer.version, state(layer)) == (1, {"A": 5, "B": 9})
    assert not FeatureChange.objects.filter(layer=layer, version=2).exists()
