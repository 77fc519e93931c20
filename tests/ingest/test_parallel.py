"""A large file's batches prepared by worker processes (ingest/parallel.py) give the layer a serial
read gives: same rows, counts, warnings, field types and search entries.

The thresholds are lowered so that a ten-feature GeoPackage in batches of three takes the
large-file path (workers, id-range reads, its own partition).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from geoportal.config import project_config
from ingest import parallel
from ingest.readers import open_source, read_batch, with_id_ranges
from ingest.services import IngestResult, import_file
from layers import partitions
from layers.models import City
from layers.search import search_index_layer
from tests.ingest.conftest import Feature, ogr2ogr, square, write_geojson

BOWTIE = {"type": "Polygon", "coordinates": [[[27.5, 53.9], [27.51, 53.91], [27.51, 53.9], [27.5, 53.91], [27.5, 53.9]]]}


@pytest.fixture
def mixed_gpkg(tmp_path: Path) -> Path:
    """Ten buildings whose batches differ: names (search labels), a bow-tie (repaired), a missing
    geometry (skipped), floors that turn from integers to decimals, a height that cannot be a number."""
    rows: list[Feature] = []
    for i in range(10):
        props: dict[str, Any] = {"name": f"Дом {i}" if i % 3 == 0 else None, "floors": i if i < 6 else i + 0.5}
        if i == 7:
            props["height"] = "high"
        geometry = BOWTIE if i == 4 else None if i == 8 else square(27.5 + i / 100, 53.9)
        rows.append((None, geometry, props))
    geojson = write_geojson(tmp_path / "mixed.geojson", rows)
    gpkg = tmp_path / "mixed.gpkg"
    ogr2ogr("-f", "GPKG", gpkg, geojson, "-nln", "buildings")
    return gpkg


@pytest.fixture
def pools_used(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The batch count of every worker pool an import ran: without it, a silent fall-back to the
    serial read would pass the tests below (their results are meant to be the same)."""
    used: list[int] = []
    real = parallel._results

    def recording(pool: Any, starts: Any) -> Any:
        used.append(len(starts))
        return real(pool, starts)

    monkeypatch.setattr(parallel, "_results", recording)
    return used


def imported(path: Path, slug: str) -> IngestResult:
    return import_file(config=project_config(), path=path, city="minsk", theme="buildings", layer=slug, batch_size=3)


def stored(result: IngestResult) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT fid, ST_AsText(geom), properties::text FROM layers_feature WHERE layer_id = %s ORDER BY fid",
            [result.layer.pk],
        )
        return cursor.fetchall()


def search_rows(result: IngestResult) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT f.fid, e.key, e.label, ST_AsText(e.centre) FROM layers_searchentry e "
            "JOIN layers_feature f ON f.id = e.feature_id WHERE e.layer_id = %s ORDER BY 1, 2",
            [result.layer.pk],
        )
        return cursor.fetchall()


def test_workers_give_the_layer_a_serial_read_gives(
    cities: dict[str, City], mixed_gpkg: Path, monkeypatch: pytest.MonkeyPatch, pools_used: list[int]
) -> None:
    serial = imported(mixed_gpkg, "serial")
    assert pools_used == []
    monkeypatch.setattr(parallel, "PARALLEL_FROM", 1)
    monkeypatch.setattr(parallel, "WORKERS", 2)
    monkeypatch.setattr(partitions, "PARTITION_FROM", 1)
    workers = imported(mixed_gpkg, "workers")
    assert pools_used == [4]  # ten features in batches of three, prepared by the workers

    assert stored(workers) == stored(serial) and len(stored(serial)) == 9
    assert workers.run.counts() == serial.run.counts() == {**serial.run.counts(), "read": 10, "repaired": 1, "skipped": 1}
    assert workers.warnings == serial.warnings and any("high" in w for w in serial.warnings)
    assert workers.layer.fields == serial.layer.fields and serial.layer.fields["floors"] == "number"
    assert search_rows(workers) == search_rows(serial) and len(search_rows(serial)) == 4
    # the entries computed while reading are those a rebuild from the stored features makes
    before = search_rows(workers)
    search_index_layer(layer=workers.layer)
    assert search_rows(workers) == before


def test_a_failing_batch_in_a_worker_fails_the_import_and_changes_nothing(
    cities: dict[str, City], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pools_used: list[int]
) -> None:
    rows: list[Feature] = [(None, square(27.5 + i / 100, 53.9), {"name": str(i)}) for i in range(6)]
    rows[4] = (None, {"type": "Point", "coordinates": [1e300, 53.9]}, {"name": "far"})
    geojson = write_geojson(tmp_path / "wild.geojson", rows)
    ogr2ogr("-f", "GPKG", tmp_path / "wild.gpkg", geojson, "-nln", "buildings", "-nlt", "GEOMETRY")
    monkeypatch.setattr(parallel, "PARALLEL_FROM", 1)
    monkeypatch.setattr(parallel, "WORKERS", 2)
    with pytest.raises(Exception, match="feature 5"):
        imported(tmp_path / "wild.gpkg", "wild")
    assert pools_used == [2]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM layers_feature f JOIN layers_layer l ON l.id = f.layer_id WHERE l.slug = 'wild'")
        assert cursor.fetchone()[0] == 0


def test_id_ranges_read_the_rows_skipping_would(mixed_gpkg: Path) -> None:
    source = open_source(mixed_gpkg, None)
    ranged = with_id_ranges(source)
    assert ranged.first_fid == 1 and source.first_fid is None
    for start in (0, 3, 9):
        by_offset, by_range = read_batch(source, start, 3), read_batch(ranged, start, 3)
        assert by_offset is not None and by_range is not None
        assert by_range.fids.tolist() == by_offset.fids.tolist() and list(by_range.wkb) == list(by_offset.wkb)
    assert read_batch(ranged, 10, 3) is None
