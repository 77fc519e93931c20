"""A large replace-import loads a partition of its own and swaps it in (layers/partitions.py).

The threshold is lowered to one feature so that small real files take the large-file path.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client

from layers import partitions
from layers.models import ImportRun, Layer
from layers.search import search_features
from tests.ingest.conftest import Feature, square, write_geojson

CliRunner = Callable[..., str]
MINSK = ("--city", "minsk", "--theme", "buildings")


@pytest.fixture
def every_import_is_large(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(partitions, "PARTITION_FROM", 1)


def named(tmp_path: Path, name: str, names: list[str], *, x: float = 27.55) -> Path:
    rows: list[Feature] = [(i + 1, square(x + i / 100, 53.9), {"name": n, "floors": i + 1}) for i, n in enumerate(names)]
    return write_geojson(tmp_path / f"{name}.geojson", rows)


def partitions_of(layer: Layer) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'layers_feature'::regclass AND pg_get_expr(c.relpartbound, c.oid) = %s",
            [f"FOR VALUES IN ('{layer.pk}')"],
        )
        return [name for (name,) in cursor.fetchall()]


def stored(layer: Layer, table: str = "layers_feature") -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT fid, properties->>'name' FROM {table} WHERE layer_id = %s", [layer.pk])
        return dict(cursor.fetchall())


def loose_tables() -> list[str]:
    """Tables made for a partition but never attached (a failed import must leave none)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relname LIKE 'layers_feature_l%%' AND relkind = 'r' AND NOT relispartition"
        )
        return [name for (name,) in cursor.fetchall()]


@pytest.mark.usefixtures("every_import_is_large")
def test_large_replace_gets_a_partition_and_the_next_one_replaces_it(ingest_cli: CliRunner, tmp_path: Path) -> None:
    ingest_cli(named(tmp_path, "v1", ["Ратуша", "Опера"]), *MINSK)
    layer = Layer.objects.get(city__slug="minsk", slug="buildings")
    first = partitions_of(layer)
    assert len(first) == 1 and stored(layer) == {"1": "Ратуша", "2": "Опера"}
    assert [h.label for h in search_features(query="ратуша")] == ["Ратуша"]
    with connection.cursor() as cursor:  # the GiST indexes tiles and bbox queries use are there
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s AND indexdef LIKE '%%gist%%'", [first[0]])
        assert sorted(d.rsplit("(", 1)[1] for (d,) in cursor.fetchall()) == ["geom)", "geom_3857)"]
        cursor.execute("SELECT count(*) FROM layers_feature WHERE layer_id = %s AND geom_3857 IS NOT NULL", [layer.pk])
        assert cursor.fetchone()[0] == 2

    ingest_cli(named(tmp_path, "v2", ["Вакзал", "Цырк", "Опера"], x=27.60), *MINSK)
    layer.refresh_from_db()
    second = partitions_of(layer)
    assert len(second) == 1 and second != first and loose_tables() == []
    assert stored(layer) == {"1": "Вакзал", "2": "Цырк", "3": "Опера"}
    assert (layer.version, layer.feature_count) == (2, 3)
    assert layer.extent is not None and layer.extent.extent[0] == pytest.approx(27.60)
    assert search_features(query="ратуша") == []  # the old partition's search rows went with it


def test_layer_moves_from_the_shared_partition_to_its_own(
    ingest_cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest_cli(named(tmp_path, "small", ["Ратуша", "Опера"]), *MINSK)
    layer = Layer.objects.get(city__slug="minsk", slug="buildings")
    assert partitions_of(layer) == [] and len(stored(layer, partitions.DEFAULT_PARTITION)) == 2

    monkeypatch.setattr(partitions, "PARTITION_FROM", 1)
    ingest_cli(named(tmp_path, "large", ["Вакзал"]), *MINSK)
    assert stored(layer, partitions.DEFAULT_PARTITION) == {}
    assert len(partitions_of(layer)) == 1 and stored(layer) == {"1": "Вакзал"}


@pytest.mark.usefixtures("every_import_is_large")
def test_failing_large_import_leaves_the_layer_and_no_table(ingest_cli: CliRunner, tmp_path: Path) -> None:
    ingest_cli(named(tmp_path, "v1", ["Ратуша", "Опера"]), *MINSK)
    layer = Layer.objects.get(city__slug="minsk", slug="buildings")
    before = partitions_of(layer)
    no_geometry = write_geojson(tmp_path / "no_geometry.geojson", [(1, None, {"name": "X"}), (2, None, {"name": "Y"})])
    with pytest.raises(CommandError, match="usable geometry"):
        ingest_cli(no_geometry, *MINSK)
    layer.refresh_from_db()
    assert partitions_of(layer) == before and loose_tables() == []
    assert (layer.version, stored(layer)) == (1, {"1": "Ратуша", "2": "Опера"})
    assert ImportRun.objects.order_by("-id").first().status == "failed"  # type: ignore[union-attr]


@pytest.mark.usefixtures("every_import_is_large")
def test_ids_stay_unique_and_upsert_writes_into_the_partition(
    ingest_cli: CliRunner, tmp_path: Path, make_layer: Callable[..., Layer]
) -> None:
    shared = make_layer("minsk", "other", "buildings", [("a", "POINT(27.5 53.9)", {})])
    ingest_cli(named(tmp_path, "v1", ["Ратуша", "Опера"]), *MINSK)
    layer = Layer.objects.get(city__slug="minsk", slug="buildings")
    upsert = named(tmp_path, "v2", ["Опера", "Цырк"])
    ingest_cli(upsert, *MINSK, "--mode", "upsert", "--key", "name")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(DISTINCT id) FROM layers_feature WHERE layer_id IN (%s, %s)", [layer.pk, shared.pk]
        )
        assert cursor.fetchone() == (5, 5)
    assert stored(layer, partitions_of(layer)[0]) == {"1": "Ратуша", "2": "Опера", "Опера": "Опера", "Цырк": "Цырк"}


@pytest.mark.usefixtures("every_import_is_large")
def test_deleting_a_layer_drops_its_partition_and_its_search_rows(ingest_cli: CliRunner, tmp_path: Path) -> None:
    ingest_cli(named(tmp_path, "v1", ["Ратуша", "Опера"]), *MINSK)
    layer = Layer.objects.get(city__slug="minsk", slug="buildings")
    (table,) = partitions_of(layer)
    client = Client()
    client.force_login(User.objects.create_superuser("root"))
    assert client.post(f"/admin/layers/layer/{layer.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not Layer.objects.filter(pk=layer.pk).exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [table])
        assert cursor.fetchone()[0] is None  # no empty table left behind
        cursor.execute("SELECT count(*) FROM layers_feature WHERE layer_id = %s", [layer.pk])
        assert cursor.fetchone()[0] == 0
    assert search_features(query="ратуша") == []
    assert client.get("/ogc/collections/minsk-buildings").status_code == 404
