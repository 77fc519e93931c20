"""`geoportal setup`: cities and sample layers; a second run changes no layer."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from geoportal.config import project_config
from layers.models import City, ImportRun, Layer

EXPECTED = {
    "sample-buildings": ("buildings", 482),  # 494 in the file: 5 empty, 7 collapse to lines when repaired
    "sample-roads": ("roads", 2504),
    "sample-utilities": ("utilities", 79),
    "sample-addresses": ("addresses", 1377),
    "sample-water": ("water", 14),
    "belarus-country": ("boundaries", 1),
    "belarus-districts": ("boundaries", 119),
}


def run_setup() -> str:
    out = StringIO()
    call_command("setup", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_setup_twice_loads_the_sample_once() -> None:
    first = run_setup()
    layers = {layer.collection_id: layer for layer in Layer.objects.select_related("city")}
    assert {cid: (layer.theme, layer.feature_count) for cid, layer in layers.items()} == EXPECTED
    assert all(layer.version == 1 for layer in layers.values())
    assert City.objects.filter(slug="sample", is_sample=True).exists() and City.objects.count() == 18
    assert "sample-roads: version 1, 2504 features written" in first and "setup done" in first
    assert layers["belarus-districts"].attribution == "geoBoundaries (CC BY 4.0)"
    assert layers["sample-roads"].attribution == "© OpenStreetMap contributors, ODbL 1.0"
    assert set(layers["belarus-country"].title) == {"be", "ru", "en"}

    second = run_setup()
    again = {
        layer.collection_id: (layer.version, layer.feature_count, layer.updated_at)
        for layer in Layer.objects.select_related("city")
    }
    assert again == {cid: (layer.version, layer.feature_count, layer.updated_at) for cid, layer in layers.items()}
    assert second.count("unchanged (identical file)") == len(EXPECTED)
    assert ImportRun.objects.filter(status="noop").count() == len(EXPECTED)


@pytest.mark.django_db
def test_sample_attributes_follow_the_themes() -> None:
    call_command("load_sample", stdout=StringIO())
    roads = Layer.objects.get(city__slug="sample", slug="roads")
    classes = set(roads.features.values_list("properties__class", flat=True))
    road_class = project_config().themes["roads"].attribute("class")
    assert road_class is not None and road_class.enum is not None
    assert classes <= set(road_class.enum)  # every OSM highway value lands in the theme's enum
    assert roads.features.filter(properties__highway="primary", properties__class_rank=3).exists()
    utilities = Layer.objects.get(city__slug="sample", slug="utilities")
    networks = set(utilities.features.values_list("properties__network", flat=True))
    assert {"gas", "heat", "water", "power", "other"} <= networks
    assert utilities.features.filter(properties__voltage_kv=0.6).count() == 1
    districts = Layer.objects.get(city=None, slug="districts")
    assert set(districts.features.values_list("properties__kind", flat=True)) == {"district"}
    buildings = Layer.objects.get(city__slug="sample", slug="buildings")
    assert buildings.features.filter(properties__levels=6).exists() and buildings.fields["levels"] == "integer"
