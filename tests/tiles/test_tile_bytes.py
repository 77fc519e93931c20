"""What a tile spends its bytes on: no feature that lies in the buffer alone."""

from __future__ import annotations

from django.test import Client

from .conftest import decode, lonlat_in_tile, point_wkt, square_wkt, tile_of

Z = 16
X, Y = tile_of(25.30, 53.89, Z)


def test_a_feature_only_in_the_buffer_is_left_out_but_a_crossing_one_keeps_its_buffer(make_layer):
    outside = point_wkt(Z, X, Y, 1.005, 0.5)  # within the 64/4096 buffer of the tile's east edge
    crossing = square_wkt(Z, X, Y, 0.95, 0.2, 0.1)  # from 0.95 to 1.05 of the tile's width
    make_layer("lida", "buildings", "buildings", [("in-buffer", outside, {"name": "A"}), ("edge", crossing, {"name": "B"})])
    features = decode(Client().get(f"/tiles/lida-buildings/{Z}/{X}/{Y}.mvt").content)["lida-buildings"]["features"]
    assert [f["properties"]["name"] for f in features] == ["B"]
    xs = [x for ring in features[0]["geometry"]["coordinates"] for x, _ in ring]
    assert max(xs) > 4096  # clipped at the buffer, not at the tile edge: seamless across the border


def test_a_feature_whose_box_meets_the_tile_but_whose_shape_does_not_is_left_out(make_layer):
    """An L around the tile's north-east corner: its box overlaps the tile, its arms lie in the buffer only."""
    corner = [(0.90, -0.012), (1.012, -0.012), (1.012, 0.10), (1.004, 0.10), (1.004, -0.004), (0.90, -0.004), (0.90, -0.012)]
    ring = ", ".join("{} {}".format(*lonlat_in_tile(Z, X, Y, fx, fy)) for fx, fy in corner)
    inside = square_wkt(Z, X, Y, 0.4, 0.4, 0.1)
    make_layer("lida", "buildings", "buildings", [("corner", f"POLYGON(({ring}))", {"name": "L"}), ("in", inside, {"name": "I"})])
    features = decode(Client().get(f"/tiles/lida-buildings/{Z}/{X}/{Y}.mvt").content)["lida-buildings"]["features"]
    assert [f["properties"]["name"] for f in features] == ["I"]
    # The neighbour to the east draws it.
    east = decode(Client().get(f"/tiles/lida-buildings/{Z}/{X + 1}/{Y}.mvt").content)["lida-buildings"]["features"]
    assert [f["properties"]["name"] for f in east] == ["L"]
