"""layers.mvt.doubles_as_floats on tiles PostGIS encodes (ST_AsMVT): only the named layers' doubles change."""

from __future__ import annotations

import json
import struct
from typing import Any

from django.db import connection

from layers.mvt import doubles_as_floats

from .conftest import raw_layer

LONG_TEXT = "Вуліца " * 40  # a value entry longer than 127 bytes: a two-byte length
# A line of 200 vertices: a feature longer than 127 bytes.
LONG_LINE = "LINESTRING(" + ", ".join(f"{i * 20} {(i % 2) * 30}" for i in range(200)) + ")"


def st_asmvt_tile() -> bytes:
    """Two MVT layers, `a` and `b`, with doubles, integers (also negative), booleans, long and short strings."""
    layer_sql = """
        SELECT ST_AsMVT(t, %s, 4096, 'geom') FROM (
            SELECT properties::jsonb, ST_GeomFromText(wkt) AS geom FROM (VALUES
                ('{"h": 36.6, "n": 3, "neg": -7, "ok": true, "s": "short"}', 'POINT(10 10)'),
                (%s, %s),
                ('{"h": 0.1, "area": 507.4, "s": "short"}', 'POLYGON((0 0, 100 0, 100 100, 0 0))')
            ) AS rows (properties, wkt)
        ) AS t"""
    long_row = json.dumps({"h": 1e-7, "text": LONG_TEXT, "big": 12345678901})
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT ({layer_sql}) || ({layer_sql})", ["a", long_row, LONG_LINE, "b", long_row, LONG_LINE])
        return bytes(cursor.fetchone()[0])


def kinds(layer: Any) -> list[tuple[str, Any]]:
    return [(fields[0][0].name, fields[0][1]) for fields in (value.ListFields() for value in layer.values)]


def float32(value: float) -> float:
    return struct.unpack("<f", struct.pack("<f", value))[0]


def test_doubles_of_the_named_layer_become_floats_and_nothing_else_changes(db):
    tile = st_asmvt_tile()
    before_a, before_b = raw_layer(tile, "a"), raw_layer(tile, "b")
    assert {kind for kind, _ in kinds(before_a)} >= {"double_value", "string_value", "uint_value", "sint_value", "bool_value"}
    assert any(feature.ByteSize() > 127 for feature in before_a.features)
    assert any(len(text) > 127 for kind, text in kinds(before_a) if kind == "string_value")

    rewritten = doubles_as_floats(tile, layers=["a"])
    after_a, after_b = raw_layer(rewritten, "a"), raw_layer(rewritten, "b")
    expected = [("float_value", float32(value)) if kind == "double_value" else (kind, value) for kind, value in kinds(before_a)]
    assert kinds(after_a) == expected  # same order: every feature's tags still point at the same values
    assert [f.SerializeToString() for f in after_a.features] == [f.SerializeToString() for f in before_a.features]
    assert list(after_a.keys) == list(before_a.keys) and after_a.extent == before_a.extent == 4096
    assert after_b.SerializeToString() == before_b.SerializeToString()
    assert len(rewritten) == len(tile) - 4 * sum(kind == "double_value" for kind, _ in kinds(before_a))


def test_a_tile_without_the_named_layer_or_without_doubles_comes_back_unchanged(db):
    tile = st_asmvt_tile()
    assert doubles_as_floats(tile, layers=["c"]) == tile
    once = doubles_as_floats(tile, layers=["a", "b"])
    assert doubles_as_floats(once, layers=["a", "b"]) == once
    assert doubles_as_floats(b"", layers=["a"]) == b""
