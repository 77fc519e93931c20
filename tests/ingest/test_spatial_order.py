"""A large layer's own partition rewritten in spatial order after its import (partitions.reorder,
layers.services.layer_spatial_order, queued by the import, run by `geoportal layer optimize`).

The partition threshold is lowered so that a file of a few hundred squares takes the large-file path;
the squares are written in shuffled order, so the file order is far from the map order.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django_tasks_db.models import DBTaskResult

from layers import partitions
from layers.models import Layer
from layers.services import layer_spatial_order
from tests.ingest.conftest import Feature, square, write_geojson

CliRunner = Callable[..., str]
SIDE = 24  # squares per row and column
STEP = 0.002  # degrees between neighbouring squares


@pytest.fixture
def every_import_is_large(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(partitions, "PARTITION_FROM", 1)


def shuffled_grid(tmp_path: Path, name: str, *, x0: float = 27.50, seed: int = 7) -> Path:
    cells = [(col, row) for col in range(SIDE) for row in range(SIDE)]
    random.Random(seed).shuffle(cells)
    rows: list[Feature] = [
        (i + 1, square(x0 + col * STEP, 53.85 + row * STEP), {"name": f"{col}/{row}", "floors": col + row})
        for i, (col, row) in enumerate(cells)
    ]
    return write_geojson(tmp_path / f"{name}.geojson", rows)


def own_table(layer: Layer) -> str:
    table = partitions.own_partition(layer.pk)
    assert table is not None
    return table


def layer_tables(layer: Layer) -> list[str]:
    """Every table named for one of the layer's partitions, attached or not."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relkind = 'r' AND relname LIKE %s ORDER BY relname",
            [f"layers\\_feature\\_l{layer.pk}\\_%"],
        )
        return [name for (name,) in cursor.fetchall()]


def snapshot(layer: Layer) -> set[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, fid, properties::text, ST_AsText(geom), created_at, updated_at FROM layers_feature WHERE layer_id = %s",
            [layer.pk],
        )
        return set(cursor.fetchall())


def physical_order(layer: Layer) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {own_table(layer)} ORDER BY ctid")
        return [i for (i,) in cursor.fetchall()]


def mean_step_m(layer: Layer) -> float:
    """Mean distance (metres, EPSG:3857) between the centroids of rows stored one after the other."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT avg(ST_Distance(c, before)) FROM (SELECT ST_Centroid(geom_3857) AS c, "
            f"lag(ST_Centroid(geom_3857)) OVER (ORDER BY ctid) AS before FROM {own_table(layer)}) AS s"
        )
        return float(cursor.fetchone()[0])


def index_columns(table: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s", [table.strip('"')])
        return sorted(d.split(" USING ", 1)[1] for (d,) in cursor.fetchall())


def served(client: Client, cid: str) -> tuple[str, list[dict[str, Any]]]:
    response = client.get(f"/ogc/collections/{cid}/items?limit=1000&bbox=27.5,53.85,27.6,53.95")
    assert response.status_code == 200
    return response["ETag"], json.loads(response.content)["features"]


@pytest.fixture
def two_large_layers(every_import_is_large: None, ingest_cli: CliRunner, tmp_path: Path) -> Iterator[tuple[Layer, Layer]]:
    ingest_cli(shuffled_grid(tmp_path, "buildings"), "--city", "minsk", "--theme", "buildings")
    ingest_cli(shuffled_grid(tmp_path, "other", x0=27.70, seed=8), "--city", "minsk", "--theme", "buildings", "--layer", "other")
    yield Layer.objects.get(city__slug="minsk", slug="buildings"), Layer.objects.get(city__slug="minsk", slug="other")


def test_ordering_keeps_every_feature_and_stores_them_in_map_order(two_large_layers: tuple[Layer, Layer]) -> None:
    layer, other = two_large_layers
    before, step_before, old_table = snapshot(layer), mean_step_m(layer), own_table(layer)
    other_before = (snapshot(other), physical_order(other), own_table(other))
    client = Client()
    etag, page = served(client, "minsk-buildings")

    assert layer_spatial_order(layer_id=layer.pk, version=layer.version) is True

    version, count = layer.version, layer.feature_count
    layer.refresh_from_db()
    assert (layer.version, layer.feature_count) == (version, count) == (1, SIDE * SIDE)
    assert snapshot(layer) == before and len(before) == SIDE * SIDE
    # Shuffled, consecutive rows lie ~a third of the grid apart; along the curve mostly one square.
    cell = STEP * 111_320 * 1.7  # one grid step in EPSG:3857 metres at 53.9° N (~1/cos)
    step_after = mean_step_m(layer)
    assert step_before > 5 * cell and step_after < 1.5 * cell, (step_before, step_after, cell)
    new_table = own_table(layer)
    assert new_table != old_table and layer_tables(layer) == [new_table.strip('"')]
    assert index_columns(new_table) == [
        "btree (id)",
        "btree (layer_id, fid)",
        "btree (layer_id, id)",
        "gist (geom)",
        "gist (geom_3857)",
    ]
    assert (snapshot(other), physical_order(other), own_table(other)) == other_before
    assert served(client, "minsk-buildings") == (etag, page)  # same tag, same features: caches stay valid

    # Again at the same version: a new table again, never the name of the one it replaces.
    assert layer_spatial_order(layer_id=layer.pk, version=layer.version) is True
    assert own_table(layer) != new_table and layer_tables(layer) == [own_table(layer).strip('"')]
    assert snapshot(layer) == before


def test_stale_version_and_shared_partition_change_nothing(
    two_large_layers: tuple[Layer, Layer], make_layer: Callable[..., Layer]
) -> None:
    layer, _ = two_large_layers
    order, table = physical_order(layer), own_table(layer)
    assert layer_spatial_order(layer_id=layer.pk, version=layer.version - 1) is False  # a newer import came since
    assert layer_spatial_order(layer_id=layer.pk, version=layer.version + 1) is False
    assert (physical_order(layer), own_table(layer)) == (order, table)

    small = make_layer("minsk", "small", "buildings", [("a", "POINT(27.5 53.9)", {}), ("b", "POINT(27.6 53.9)", {})])
    assert layer_spatial_order(layer_id=small.pk, version=small.version) is False
    assert partitions.own_partition(small.pk) is None and layer_tables(small) == []
    assert layer_spatial_order(layer_id=10**9, version=1) is False  # no such layer


def optimize(cid: str, *options: str) -> str:
    out = StringIO()
    call_command("layer", "optimize", cid, *options, stdout=out)
    return out.getvalue()


def test_cli_optimize(two_large_layers: tuple[Layer, Layer], make_layer: Callable[..., Layer]) -> None:
    layer, _ = two_large_layers
    step_before = mean_step_m(layer)
    printed = optimize("minsk-buildings")
    assert printed.startswith(f"minsk-buildings: {SIDE * SIDE} features stored in spatial order in ")
    assert printed.rstrip().endswith("s (version 1 unchanged)")
    assert mean_step_m(layer) < step_before / 5
    table = partitions.own_partition(layer.pk)
    assert optimize("minsk-buildings") == "minsk-buildings: already stored in spatial order (--force rewrites it again)\n"
    assert partitions.own_partition(layer.pk) == table  # not rewritten
    assert "features stored in spatial order" in optimize("minsk-buildings", "--force")
    assert partitions.own_partition(layer.pk) != table

    make_layer("minsk", "small", "buildings", [("a", "POINT(27.5 53.9)", {})])
    assert "nothing to do" in optimize("minsk-small") and "share the common partition" in optimize("minsk-small")


def test_large_import_queues_the_ordering_and_the_task_does_it(
    every_import_is_large: None,
    ingest_cli: CliRunner,
    tmp_path: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        printed = ingest_cli(shuffled_grid(tmp_path, "buildings"), "--city", "minsk", "--theme", "buildings")
    assert "spatial ordering queued" in printed and "`geoportal layer optimize minsk-buildings` runs it now" in printed
    layer = Layer.objects.get(city__slug="minsk", slug="buildings")
    (queued,) = DBTaskResult.objects.filter(task_path="layers.tasks.order_layer_spatially")
    assert (queued.status, queued.args_kwargs["args"]) == ("READY", [layer.pk, layer.version])

    step_before = mean_step_m(layer)
    assert queued.task.call(*queued.args_kwargs["args"]) is True  # what db_worker runs
    assert mean_step_m(layer) < step_before / 5


def test_small_import_queues_nothing(ingest_cli: CliRunner, tmp_path: Path, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        printed = ingest_cli(shuffled_grid(tmp_path, "buildings"), "--city", "minsk", "--theme", "buildings")
    assert "spatial ordering" not in printed and "minsk-buildings: version 1" in printed
    assert not DBTaskResult.objects.exists()
