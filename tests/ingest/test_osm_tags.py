"""The OSM tag mapping used by load_sample (pure functions: rows in, theme attributes out)."""

from __future__ import annotations

import pytest

from ingest import osm_tags


def test_hstore_with_escaped_quotes_and_null() -> None:
    text = r'"name:fi"=>"Kauppatori","note"=>"a \"quoted\" word","fixme"=>NULL,"path"=>"C:\\x"'
    assert osm_tags.parse_hstore(text) == {"name:fi": "Kauppatori", "note": 'a "quoted" word', "path": "C:\\x"}
    assert osm_tags.parse_hstore(None) == {}


@pytest.mark.parametrize(
    ("highway", "klass", "rank"),
    [
        ("motorway", "motorway", 1),
        ("primary_link", "primary", 3),
        ("unclassified", "residential", 6),
        ("service", "service", 7),
        ("steps", "footway", 8),
        ("trail", "path", 8),
        ("cycleway", "cycleway", 8),
        ("elevator", "other", 9),
        (None, "other", 9),
    ],
)
def test_highway_to_road_class_and_rank(highway: str | None, klass: str, rank: int) -> None:
    row = osm_tags.roads({"highway": highway, "other_tags": None})
    assert (row["class"], row["class_rank"]) == (klass, rank)


def test_road_tags_from_other_tags() -> None:
    row = osm_tags.roads(
        {"highway": "secondary", "oneway": "-1", "maxspeed": None, "other_tags": '"lanes"=>"2","maxspeed"=>"40"'}
    )
    assert (row["lanes"], row["maxspeed"], row["oneway"], row["highway"]) == (2, 40, True, "secondary")


def test_building_levels_address_and_year() -> None:
    row = osm_tags.buildings(
        {
            "building": "yes",
            "levels": None,
            "addr_street": "Aleksanterinkatu",
            "addr_housenumber": "52",
            "other_tags": '"building:levels"=>"6","start_date"=>"1905-03","height"=>"21 m"',
        }
    )
    assert (row["levels"], row["address"], row["year_built"], row["height"]) == ("6", "Aleksanterinkatu 52", 1905, 21.0)
    assert "addr_street" not in row


@pytest.mark.parametrize(
    ("row", "network"),
    [
        ({"power": "minor_line", "voltage": "600"}, "power"),
        ({"man_made": "pipeline", "substance": "gas"}, "gas"),
        ({"man_made": "pipeline", "other_tags": '"type"=>"heat"'}, "heat"),
        ({"man_made": "pipeline", "other_tags": '"substance"=>"sewage"'}, "sewer"),
        ({"man_made": "pipeline"}, "other"),
    ],
)
def test_utility_network(row: dict, network: str) -> None:
    assert osm_tags.utilities(row)["network"] == network


def test_voltage_in_volts_becomes_kilovolts_and_location_is_mapped() -> None:
    row = osm_tags.utilities({"power": "line", "voltage": "110000;20000", "location": "overground"})
    assert (row["voltage_kv"], row["location"], "voltage" in row) == (110.0, "surface", False)
