"""OpenStreetMap rows (as GDAL's OSM driver writes them) turned into theme attributes.

GDAL keeps a few tags as columns and the rest in `other_tags`, an hstore string
(`"key"=>"value",…`). Each function here is a per-row transform for one theme: it reads
the tags it understands, sets the theme's attributes, and leaves every other column alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

_HSTORE_PAIR = re.compile(r'"((?:[^"\\]|\\.)*)"\s*=>\s*(?:"((?:[^"\\]|\\.)*)"|NULL)')
_UNESCAPE = re.compile(r"\\(.)")
_NUMBER = re.compile(r"^\s*(\d+(?:[.,]\d+)?)")

ROAD_CLASSES = (
    "motorway",
    "trunk",
    "primary",
    "secondary",
    "tertiary",
    "residential",
    "service",
    "footway",
    "cycleway",
    "path",
    "track",
)
CLASS_RANK = {
    "motorway": 1,
    "trunk": 2,
    "primary": 3,
    "secondary": 4,
    "tertiary": 5,
    "residential": 6,
    "service": 7,
    "footway": 8,
    "path": 8,
    "cycleway": 8,
    "track": 8,
    "other": 9,
}
_HIGHWAY_ALIASES = {
    "unclassified": "residential",
    "living_street": "residential",
    "road": "residential",
    "pedestrian": "footway",
    "steps": "footway",
    "corridor": "footway",
    "bridleway": "path",
    "trail": "path",
}
_SUBSTANCE_NETWORK = {
    "water": "water",
    "drinking_water": "water",
    "sewage": "sewer",
    "wastewater": "sewer",
    "rainwater": "storm",
    "hot_water": "heat",
    "steam": "heat",
    "heat": "heat",
    "gas": "gas",
    "natural_gas": "gas",
}
_LOCATION = {"underground": "underground", "overhead": "overhead", "overground": "surface", "surface": "surface"}


def parse_hstore(text: str | None) -> dict[str, str]:
    """'"a"=>"1","b:c"=>"x \\"y\\""' → {'a': '1', 'b:c': 'x "y"'}; NULL values are left out."""
    if not text:
        return {}
    pairs = ((m[1], m[2]) for m in _HSTORE_PAIR.finditer(text))
    return {_UNESCAPE.sub(r"\1", key): _UNESCAPE.sub(r"\1", value) for key, value in pairs if value is not None}


def _tags(row: dict[str, Any]) -> dict[str, str]:
    """The row's OSM tags: the parsed other_tags, overridden by the non-empty columns."""
    tags = parse_hstore(row.get("other_tags"))
    for key, value in row.items():
        if key != "other_tags" and value not in (None, ""):
            tags[key] = str(value)
    return tags


def _first_number(text: str | None) -> float | None:
    """'110000;20000' → 110000.0, '50 mph' → 50.0, 'RU:urban' → None."""
    match = _NUMBER.match(text or "")
    return float(match[1].replace(",", ".")) if match else None


def _set(row: dict[str, Any], key: str, value: Any) -> None:
    if value not in (None, ""):
        row[key] = value


def road_class(highway: str | None) -> str:
    value = (highway or "").strip()
    if value.endswith("_link"):
        value = value[: -len("_link")]
    value = _HIGHWAY_ALIASES.get(value, value)
    return value if value in ROAD_CLASSES else "other"


def roads(row: dict[str, Any]) -> dict[str, Any]:
    tags = _tags(row)
    out = dict(row)
    out["class"] = road_class(tags.get("highway"))
    out["class_rank"] = CLASS_RANK[out["class"]]
    lanes = _first_number(tags.get("lanes"))
    _set(out, "lanes", int(lanes) if lanes is not None else None)
    speed = _first_number(tags.get("maxspeed"))
    _set(out, "maxspeed", int(speed) if speed is not None else tags.get("maxspeed"))
    oneway = tags.get("oneway")
    if oneway is not None:  # "-1" = one-way against the drawing direction: still one-way
        out["oneway"] = oneway in ("yes", "true", "1", "-1")
    _set(out, "surface", tags.get("surface"))
    _set(out, "ref", tags.get("ref"))
    return out


def buildings(row: dict[str, Any]) -> dict[str, Any]:
    tags = _tags(row)
    out = {k: v for k, v in row.items() if k not in ("addr_street", "addr_housenumber")}
    _set(out, "levels", tags.get("building:levels") or tags.get("levels"))
    height = _first_number(tags.get("height") or tags.get("building:height"))
    _set(out, "height", height)
    _set(out, "material", tags.get("building:material"))
    year = re.match(r"^\s*(\d{4})", tags.get("start_date", ""))
    _set(out, "year_built", int(year[1]) if year else None)
    street = tags.get("addr_street") or tags.get("addr:street")
    number = tags.get("addr_housenumber") or tags.get("addr:housenumber")
    _set(out, "address", " ".join(part for part in (street, number) if part))
    return out


def utilities(row: dict[str, Any]) -> dict[str, Any]:
    tags = _tags(row)
    out = dict(row)
    out["network"] = utility_network(tags)
    voltage = _first_number(tags.get("voltage"))
    if voltage is not None:
        out["voltage_kv"] = voltage / 1000  # OSM voltage is in volts
        out.pop("voltage", None)
    diameter = _first_number(tags.get("diameter"))
    _set(out, "diameter_mm", int(diameter) if diameter is not None else None)
    _set(out, "location", _LOCATION.get(tags.get("location", ""), tags.get("location")))
    _set(out, "operator", tags.get("operator"))
    _set(out, "material", tags.get("material"))
    return out


def utility_network(tags: dict[str, str]) -> str:
    if tags.get("power") in ("line", "minor_line", "cable"):
        return "power"
    if tags.get("telecom") or tags.get("communication"):
        return "telecom"
    for key in ("substance", "type"):  # district heating pipes are often tagged type=heat
        network = _SUBSTANCE_NETWORK.get(tags.get(key, "").strip().lower())
        if network:
            return network
    return "other"


def addresses(row: dict[str, Any]) -> dict[str, Any]:
    tags = _tags(row)
    out = dict(row)
    for attribute in ("street", "housenumber", "postcode", "city"):
        _set(out, f"addr_{attribute}", tags.get(f"addr_{attribute}") or tags.get(f"addr:{attribute}"))
    return out


TRANSFORMS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "roads": roads,
    "buildings": buildings,
    "utilities": utilities,
    "addresses": addresses,
}


_ADMIN_KIND = {"2": "country", "4": "oblast", "6": "district", "8": "city"}


def boundaries(row: dict[str, Any]) -> dict[str, Any]:
    tags = _tags(row)
    out = dict(row)
    level = tags.get("admin_level")
    _set(out, "admin_level", int(level) if level and level.isdigit() else None)
    out["kind"] = _ADMIN_KIND.get(level or "", "other")
    _set(out, "name_be", tags.get("name:be"))
    _set(out, "name_ru", tags.get("name:ru"))
    return out


TRANSFORMS["boundaries"] = boundaries


# water=* values (OSM's subtype of natural=water) → the water theme's kinds.
_WATER_KINDS = {
    "lake": "lake",
    "oxbow": "lake",
    "lagoon": "lake",
    "pond": "pond",
    "river": "river",
    "stream": "river",
    "canal": "canal",
    "ditch": "canal",
    "drain": "canal",
    "reservoir": "reservoir",
    "basin": "basin",
    "stream_pool": "pond",
    "fishpond": "pond",
}
# Tags that make an area water, and the kind each implies when water=* says nothing better.
_WATER_AREA_KINDS = (("waterway", "riverbank", "river"), ("landuse", "reservoir", "reservoir"), ("landuse", "basin", "basin"))


def water_kind(tags: dict[str, str]) -> str:
    """natural=water + water=*, waterway=riverbank, landuse=reservoir|basin → lake, river, reservoir …"""
    kind = _WATER_KINDS.get(tags.get("water", "").strip().lower())
    if kind:
        return kind
    for key, value, implied in _WATER_AREA_KINDS:
        if tags.get(key) == value:
            return implied
    if tags.get("landuse") == "pond":  # a non-standard tag some mappers add to natural=water
        return "pond"
    return "other"


def water(row: dict[str, Any]) -> dict[str, Any]:
    tags = _tags(row)
    # The raw water/landuse/natural columns are replaced by `kind` (a raw `water` would also be read as kind).
    out = {k: v for k, v in row.items() if k not in ("water", "natural", "landuse", "waterway")}
    out["kind"] = water_kind(tags)
    return out


TRANSFORMS["water"] = water
