"""JSON types of attribute values: what `Layer.fields` records per attribute (queryables, TileJSON).

Shared by the import (ingest) and single-feature edits (layers.services_features), which both
extend a layer's field list.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string", dict: "object", list: "array"}


def json_type(value: Any) -> str:
    return json_type_of(type(value))


def json_type_of(kind: type) -> str:
    """json_type of any value of type `kind`."""
    exact = _JSON_TYPES.get(kind)
    if exact is not None:
        return exact
    for base, name in _JSON_TYPES.items():  # bool before int: a bool subclass is a boolean
        if issubclass(kind, base):
            return name
    return "string"


def merge_field_type(old: str | None, new: str) -> str:
    """The layer's field type: integer+number → number; any other mix → string."""
    if old is None or old == new:
        return new
    if {old, new} == {"integer", "number"}:
        return "number"
    return "string"


def fits_single_precision(properties: dict[str, Any]) -> bool:
    """Whether every non-integral number among `properties` reads back from a 4-byte float as itself.

    That is: the value is the shortest decimal of its float32 (36.6, not 36.6000001), so a tile may
    carry it as an MVT float without changing it (`Layer.single_precision`).
    """
    for value in properties.values():
        if isinstance(value, float) and not value.is_integer() and float(str(np.float32(value))) != value:
            return False
    return True
