"""Fixtures for the tile tests: layers placed at known positions inside one z14 tile of Lida."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import mapbox_vector_tile
import pytest
from mapbox_vector_tile.Mapbox import vector_tile_pb2

from layers.models import Layer

Z = 14
LIDA = (25.30, 53.89)


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def lonlat_in_tile(z: int, x: int, y: int, fx: float, fy: float) -> tuple[float, float]:
    """The position at fraction (fx right, fy down) of tile z/x/y, linear in Web Mercator as MVT is."""
    n = 2**z
    lon = (x + fx) / n * 360 - 180
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * (y + fy) / n))))
    return lon, lat


def square_wkt(z: int, x: int, y: int, fx: float, fy: float, size: float) -> str:
    """A square polygon from fraction (fx, fy) to (fx + size, fy + size) of the tile."""
    corners = [(fx, fy), (fx + size, fy), (fx + size, fy + size), (fx, fy + size), (fx, fy)]
    ring = ", ".join("{} {}".format(*lonlat_in_tile(z, x, y, a, b)) for a, b in corners)
    return f"POLYGON(({ring}))"


def point_wkt(z: int, x: int, y: int, fx: float, fy: float) -> str:
    return "POINT({} {})".format(*lonlat_in_tile(z, x, y, fx, fy))


def decode(data: bytes) -> dict:
    return mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})


def raw_layer(data: bytes, name: str) -> Any:
    """The protobuf message of MVT layer `name`: what the decoder hides (value types, whether an id is set)."""
    tile = vector_tile_pb2.tile()
    tile.ParseFromString(data)
    (layer,) = (layer for layer in tile.layers if layer.name == name)
    return layer


@dataclass
class LidaLayers:
    z: int
    x: int
    y: int
    buildings: Layer
    roads: Layer
    addresses: Layer
    utilities_internal: Layer
    secret_restricted: Layer


@pytest.fixture
def lida(make_layer) -> LidaLayers:
    """Public buildings (3 inside the tile, 1 far away), roads, addresses; an internal and a restricted layer in the same tile."""
    x, y = tile_of(*LIDA, Z)
    buildings = make_layer(
        "lida",
        "buildings",
        "buildings",
        [
            ("b1", square_wkt(Z, x, y, 0.10, 0.10, 0.05), {"name": "School 1", "levels": 3}),
            ("b2", square_wkt(Z, x, y, 0.50, 0.50, 0.05), {"name": "Hospital", "levels": 5, "building": "public"}),
            ("b3", square_wkt(Z, x, y, 0.80, 0.20, 0.05), {"levels": 9}),
            ("far", square_wkt(Z, x + 3, y + 3, 0.5, 0.5, 0.05), {"name": "Elsewhere"}),
        ],
    )
    line = "LINESTRING({} {}, {} {})".format(*lonlat_in_tile(Z, x, y, 0.05, 0.9), *lonlat_in_tile(Z, x, y, 0.95, 0.9))
    roads = make_layer("lida", "roads", "roads", [("r1", line, {"class": "primary", "class_rank": 3, "name": "Savetskaya"})])
    addresses = make_layer("lida", "addresses", "addresses", [("a1", point_wkt(Z, x, y, 0.25, 0.75), {"housenumber": "7"})])
    internal = make_layer(
        "lida", "pipes", "utilities", [("u1", point_wkt(Z, x, y, 0.3, 0.3), {"kind": "water"})], visibility="internal"
    )
    secret = make_layer(
        "lida", "secret", "utilities", [("s1", point_wkt(Z, x, y, 0.6, 0.6), {"kind": "gas"})], visibility="restricted"
    )
    return LidaLayers(Z, x, y, buildings, roads, addresses, internal, secret)


@pytest.fixture(autouse=True)
def tile_cache_dir(settings, tmp_path):
    """Each test gets its own empty server-side tile cache."""
    settings.GEOPORTAL = {**settings.GEOPORTAL, "TILE_CACHE": True, "TILE_CACHE_DIR": str(tmp_path / "tiles")}
    return tmp_path / "tiles"
