"""What a tile spends its bytes on: no feature that lies in the buffer alone."""

from __future__ import annotations

from django.test import Client

from .conftest import decode, point_wkt, square_wkt, tile_of

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
