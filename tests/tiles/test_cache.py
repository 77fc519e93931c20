"""The server-side tile cache: never stale, pre-compressed, never leaking hidden layers; fewer attributes at low zoom."""

from __future__ import annotations

import gzip

import brotli
from django.contrib.auth.models import User
from django.test import Client

from geoportal.tiles.cache import negotiate
from layers.models import Feature
from layers.services import layer_set_visibility
from layers.tiles import BRIEF_BELOW_ZOOM

from .conftest import decode, tile_of


def building_tile(lida) -> str:
    return f"/tiles/lida-buildings/{lida.z}/{lida.x}/{lida.y}.mvt"


def names_in(response) -> set[str]:
    tile = decode(response.content)
    return {f["properties"].get("name", "") for f in tile["lida-buildings"]["features"]}


def test_cached_tile_is_served_until_the_layer_version_changes_then_never_again(lida, tile_cache_dir):
    client = Client()
    assert "Hospital" in names_in(client.get(building_tile(lida)))
    assert list(tile_cache_dir.rglob("*.mvt")), "the rendered tile was stored"
    # Changing features without a version bump is not something services do; it shows the cache answers.
    Feature.objects.filter(layer=lida.buildings, fid="b2").update(properties={"name": "Clinic"})
    assert "Hospital" in names_in(client.get(building_tile(lida)))
    lida.buildings.version += 1
    lida.buildings.save()
    fresh = client.get(building_tile(lida))
    assert "Clinic" in names_in(fresh) and "Hospital" not in names_in(fresh)
    assert len(list(tile_cache_dir.rglob("*.mvt"))) == 2


def test_empty_tile_is_cached_and_stays_204(lida, tile_cache_dir):
    path = f"/tiles/lida-buildings/{lida.z}/{lida.x - 10}/{lida.y - 10}.mvt"
    first = Client().get(path, headers={"Accept-Encoding": "br, gzip"})
    second = Client().get(path, headers={"Accept-Encoding": "br, gzip"})
    assert first.status_code == second.status_code == 204
    assert second.content == b"" and "Content-Encoding" not in second
    # A marker nginx never serves (it serves *.mvt only): the geoportal keeps answering 204 itself.
    assert not list(tile_cache_dir.rglob("*.mvt*"))
    assert [p.stat().st_size for p in tile_cache_dir.rglob("*.empty")] == [0]


def test_tile_is_sent_in_the_coding_the_client_accepts(lida):
    client = Client()
    plain = client.get(building_tile(lida), headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain
    expected = decode(plain.content)
    for accept, coding, decompress in [("gzip", "gzip", gzip.decompress), ("gzip, deflate, br", "br", brotli.decompress)]:
        for _ in range(2):  # rendered, then from the cache
            response = client.get(building_tile(lida), headers={"Accept-Encoding": accept})
            assert response["Content-Encoding"] == coding
            assert "Accept-Encoding" in response["Vary"]
            # Compressed exactly once: GZipMiddleware leaves an encoded response alone.
            assert decode(decompress(response.content)) == expected
            assert response["ETag"] == "W/" + plain["ETag"]


def test_accept_encoding_negotiation():
    assert negotiate("") == "identity"
    assert negotiate("gzip") == "gzip"
    assert negotiate("br;q=0, gzip") == "gzip"
    assert negotiate("deflate, br") == "br"
    assert negotiate("*") == "br"


def test_anonymous_composite_never_gets_the_superusers_cached_tile(lida):
    admin = Client()
    admin.force_login(User.objects.create_superuser("admin"))
    path = f"/tiles/city/lida/{lida.z}/{lida.x}/{lida.y}.mvt"
    full = admin.get(path)
    assert {"lida-pipes", "lida-secret"} <= set(decode(full.content))
    assert full["Cache-Control"].startswith("private")
    anonymous = Client().get(path)
    assert set(decode(anonymous.content)) == {"lida-buildings", "lida-roads"}
    assert anonymous["ETag"] != full["ETag"]
    assert Client().get(path, headers={"If-None-Match": full["ETag"]}).status_code == 200


def test_visibility_change_retires_the_cached_tiles(lida):
    path = f"/tiles/city/lida/{lida.z}/{lida.x}/{lida.y}.mvt"
    assert "lida-roads" in decode(Client().get(path).content)
    layer_set_visibility(layer=lida.roads, visibility="internal")
    assert "lida-roads" not in decode(Client().get(path).content)
    assert Client().get(f"/tiles/lida-roads/{lida.z}/{lida.x}/{lida.y}.mvt").status_code == 404


def test_low_zoom_tiles_carry_only_the_attributes_the_map_needs(make_layer):
    z = BRIEF_BELOW_ZOOM  # the first zoom with every attribute
    x, y = tile_of(25.305, 53.8905, z)
    line = "LINESTRING(25.304 53.890, 25.306 53.891)"
    props = {"class": "primary", "class_rank": 3, "name": "Savetskaya", "surface": "asphalt", "lanes": 4}
    make_layer("lida", "roads", "roads", [("r", line, props)])
    detailed = decode(Client().get(f"/tiles/lida-roads/{z}/{x}/{y}.mvt").content)
    assert detailed["lida-roads"]["features"][0]["properties"] == props
    coarse = decode(Client().get(f"/tiles/lida-roads/{z - 1}/{x >> 1}/{y >> 1}.mvt").content)
    assert coarse["lida-roads"]["features"][0]["properties"] == {"class": "primary", "class_rank": 3, "name": "Savetskaya"}
