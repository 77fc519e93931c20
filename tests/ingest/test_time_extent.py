"""An import stores the layer's temporal extent, so collection documents never scan the layer for it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.gis.geos import GEOSGeometry
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from layers import partitions
from layers.models import Feature, Layer
from layers.services_features import feature_save
from tests.ingest.conftest import Feature as Row
from tests.ingest.conftest import write_geojson

CliRunner = Callable[..., str]
PIPE: dict[str, Any] = {"type": "LineString", "coordinates": [[27.55, 53.9], [27.56, 53.91]]}


def pipes(tmp_path: Path, dates: list[str | None]) -> Path:
    rows: list[Row] = [
        (i + 1, PIPE, {"network": "water", "дата_прокладки": d} if d else {"network": "water"}) for i, d in enumerate(dates)
    ]
    return write_geojson(tmp_path / "pipes.geojson", rows)


def _scans(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return sum("min(q.s)" in q["sql"] for q in queries.captured_queries)


@pytest.mark.parametrize("large", [False, True], ids=["shared_partition", "own_partition"])
def test_import_stores_the_time_extent_and_collections_read_it(
    ingest_cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, large: bool
) -> None:
    if large:
        monkeypatch.setattr(partitions, "PARTITION_FROM", 1)
    ingest_cli(pipes(tmp_path, ["01.05.1975", "2019-06-30", None]), "--city", "minsk", "--theme", "utilities")
    layer = Layer.objects.get(city__slug="minsk", slug="utilities")
    assert layer.time_extent == {"version": layer.version, "interval": ["1975-05-01T00:00:00Z", "2019-06-30T00:00:00Z"]}
    client = Client()
    assert _scans(client, "/ogc/collections/minsk-utilities") == 0
    doc = client.get("/ogc/collections/minsk-utilities").json()
    assert doc["extent"]["temporal"]["interval"] == [["1975-05-01T00:00:00Z", "2019-06-30T00:00:00Z"]]


def test_an_edit_makes_the_stored_extent_stale_and_the_next_request_refreshes_it(ingest_cli: CliRunner, tmp_path: Path) -> None:
    ingest_cli(pipes(tmp_path, ["2001-01-01"]), "--city", "minsk", "--theme", "utilities")
    layer = Layer.objects.get(city__slug="minsk", slug="utilities")
    feature_save(
        feature=Feature(
            layer=layer, fid="new", geom=GEOSGeometry(json.dumps(PIPE), srid=4326), properties={"installed": "2024-03-01"}
        )
    )
    client = Client()
    assert _scans(client, "/ogc/collections/minsk-utilities") == 1  # the new version's extent, computed once
    assert _scans(client, "/ogc/collections/minsk-utilities") == 0
    layer.refresh_from_db()
    assert layer.time_extent == {"version": layer.version, "interval": ["2001-01-01T00:00:00Z", "2024-03-01T00:00:00Z"]}
