"""The fast path of an import: a batch's attributes mapped and JSON-encoded column by column.

The per-row path (PropertyMapper.map, one dict and one json encode per row) costs about as much
as everything else of an import together. When a batch needs none of what only the per-row path
does — a row transform, --key, ids from a field, coercion of a value, an enum check, a warning —
its columns are renamed as wholes and each row's JSON is one `template % values` of values
encoded per column. Otherwise map_columns returns None and the caller takes the per-row path,
so the stored properties and warnings are the same either way (tests/ingest/test_columnar.py).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from json.encoder import encode_basestring  # the C encoder json uses for str with ensure_ascii=False
from typing import Any

from ingest.mapping import ALREADY, PropertyMapper

NoneType = type(None)


def map_columns(mapper: PropertyMapper, columns: dict[str, list[Any]]) -> dict[str, list[Any]] | None:
    """The mapped columns (output key → values, None = null), or None when a row would map differently."""
    out: dict[str, list[Any]] = {}
    used: set[str] = set()
    for attribute, candidates in mapper.plan(tuple(columns)):
        if not candidates:
            if attribute.required:
                return None  # every row warns
            continue
        if len(candidates) > 1 or attribute.enum is not None:
            return None
        key = candidates[0]
        values = columns[key]
        kinds = set(map(type, values))
        if kinds == {NoneType} and not attribute.required:
            continue  # never used: the column stays under its own name
        if not kinds - {NoneType} <= {ALREADY.get(attribute.type)}:
            return None  # some value needs coercion (or may fail it)
        if NoneType in kinds and (attribute.required or key != attribute.name):
            return None  # a null keeps the source key, or warns: per row
        out[attribute.name] = values
        used.add(key)
    for key, values in columns.items():
        if key not in used and key not in out:
            out[key] = values
    return out


def encode_rows(columns: dict[str, list[Any]], length: int, encoder: json.JSONEncoder) -> tuple[list[str], dict[str, set[type]]]:
    """Each row's JSON object text, and the types of values seen per key."""
    if not columns:
        return ["{}"] * length, {}
    encoded: list[list[str]] = []
    parts: list[str] = []
    kinds_of: dict[str, set[type]] = {}
    for key, values in columns.items():
        kinds = kinds_of[key] = set(map(type, values))
        encoded.append(_encode_column(values, kinds, encoder))
        parts.append(encode_basestring(key).replace("%", "%%") + ":%s")
    template = "{" + ",".join(parts) + "}"
    return [template % row for row in zip(*encoded, strict=True)], kinds_of


def _encode_column(values: list[Any], kinds: set[type], encoder: json.JSONEncoder) -> list[str]:
    """What encoder.encode gives each value, by the C function json itself uses for the column's one type."""
    plain = kinds - {NoneType}
    if plain == {float} and not all(map(math.isfinite, filter(None, values))):
        plain = set()  # NaN/inf: the encoder refuses them (allow_nan=False), as the per-row path does
    if len(plain) != 1 or next(iter(plain)) not in _SCALAR:
        return [encoder.encode(value) for value in values]
    scalar = _SCALAR[next(iter(plain))]
    if NoneType not in kinds:
        return list(map(scalar, values))
    return [scalar(value) if value is not None else "null" for value in values]


_SCALAR: dict[type, Callable[[Any], str]] = {str: encode_basestring, int: int.__repr__, float: float.__repr__}
