"""Queryables of a layer: the properties a filter or sortby may name, with their types.

They come from the theme schema (config/themes/*.yaml: name, type, title) and
from the fields the import found (`Layer.fields`), the theme winning where both
name a property. Objects and arrays are not queryable. `geometry` names the
feature geometry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from config.loader import ThemeConfig
from layers.cql2 import GEOMETRY_PROPERTY

_SCALAR_TYPES = ("string", "integer", "number", "boolean", "date", "datetime")


@dataclass(frozen=True)
class Queryable:
    name: str
    type: str  # one of _SCALAR_TYPES, or 'geometry'
    title: dict[str, str]


def layer_queryables(fields: dict[str, str], theme: ThemeConfig | None) -> dict[str, Queryable]:
    """`fields` are the layer's (Layer.fields: name → type, as the import found them)."""
    found: dict[str, Queryable] = {
        GEOMETRY_PROPERTY: Queryable(GEOMETRY_PROPERTY, "geometry", {"be": "Геаметрыя", "ru": "Геометрия", "en": "Geometry"})
    }
    for attribute in theme.attributes if theme else ():
        if attribute.type in _SCALAR_TYPES:
            found[attribute.name] = Queryable(attribute.name, attribute.type, dict(attribute.title))
    for name, kind in fields.items():
        if name not in found and kind in _SCALAR_TYPES:
            found[name] = Queryable(name, kind, {})
    return found


def queryable_types(queryables: dict[str, Queryable]) -> dict[str, str]:
    return {name: q.type for name, q in queryables.items()}


_GEOMETRY_FORMATS = {
    "Point": "geometry-point",
    "MultiPoint": "geometry-multipoint",
    "LineString": "geometry-linestring",
    "MultiLineString": "geometry-multilinestring",
    "Polygon": "geometry-polygon",
    "MultiPolygon": "geometry-multipolygon",
}


def queryables_schema(
    queryables: dict[str, Queryable], *, schema_id: str, title: str, geometry_type: str, language: str
) -> dict[str, Any]:
    """The JSON Schema (2020-12) of the queryables, as OGC API Features Part 3 describes it."""
    properties: dict[str, Any] = {}
    for q in queryables.values():
        if q.type == "geometry":
            spec: dict[str, Any] = {
                "format": _GEOMETRY_FORMATS.get(geometry_type, "geometry-any"),
                "x-ogc-role": "primary-geometry",
            }
        elif q.type in ("date", "datetime"):
            spec = {"type": "string", "format": "date" if q.type == "date" else "date-time"}
        else:
            spec = {"type": q.type}
        spec["title"] = q.title.get(language) or q.title.get("en") or q.name
        properties[q.name] = spec
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": schema_id,
        "type": "object",
        "title": title,
        "properties": properties,
        "additionalProperties": False,
    }
