"""Queryables of a layer: the properties a filter or sortby may name, with their types.

They come from the theme schema (config/themes/*.yaml: name, type, title) and
from the fields the import found (`Layer.fields`), the theme winning where both
name a property. `geometry` names the feature geometry. The theme's temporal
attribute(s) carry the roles of OGC API Features Part 5 (`primary-instant`,
`primary-interval-start` / `-end`). Arrays (JSON arrays the import found) are
queryable by the CQL2 array operators only; objects are not queryable.
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
    type: str  # one of _SCALAR_TYPES, 'array' or 'geometry'
    title: dict[str, str]
    role: str | None = None  # x-ogc-role


def layer_queryables(fields: dict[str, str], theme: ThemeConfig | None) -> dict[str, Queryable]:
    """`fields` are the layer's (Layer.fields: name → type, as the import found them)."""
    found: dict[str, Queryable] = {
        GEOMETRY_PROPERTY: Queryable(GEOMETRY_PROPERTY, "geometry", {"be": "Геаметрыя", "ru": "Геометрия", "en": "Geometry"})
    }
    temporal = theme.temporal if theme else None
    roles = (
        {temporal.instant: "primary-instant"}
        if temporal and temporal.instant
        else {temporal.start: "primary-interval-start", temporal.end: "primary-interval-end"}
        if temporal
        else {}
    )
    for attribute in theme.attributes if theme else ():
        if attribute.type in _SCALAR_TYPES:
            found[attribute.name] = Queryable(attribute.name, attribute.type, dict(attribute.title), roles.get(attribute.name))
    for name, kind in fields.items():
        if name not in found and (kind in _SCALAR_TYPES or kind == "array"):
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


def json_schema_of(kind: str) -> dict[str, Any]:
    """The JSON Schema of a property of a theme or import type (dates are strings with a format)."""
    if kind in ("date", "datetime"):
        return {"type": "string", "format": "date" if kind == "date" else "date-time"}
    if kind in ("string", "integer", "number", "boolean", "array", "object"):
        return {"type": kind}
    return {"type": "string"}


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
        else:
            spec = json_schema_of(q.type)
        spec["title"] = q.title.get(language) or q.title.get("en") or q.name
        if q.role and q.type != "geometry":
            spec["x-ogc-role"] = q.role
        properties[q.name] = spec
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": schema_id,
        "type": "object",
        "title": title,
        "properties": properties,
        "additionalProperties": False,
    }
