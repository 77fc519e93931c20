"""With the server-side cache off, a tile is compressed only into the coding that is sent — and still right."""

from __future__ import annotations

import gzip

import brotli
import pytest
from django.test import Client

from .conftest import decode


@pytest.fixture
def tile_cache_off(settings, tile_cache_dir):
    settings.GEOPORTAL = {**settings.GEOPORTAL, "TILE_CACHE": False}
    return tile_cache_dir


@pytest.mark.parametrize(
    ("accept", "coding", "unpack"),
    [("", None, bytes), ("gzip", "gzip", gzip.decompress), ("br, gzip", "br", brotli.decompress)],
)
def test_uncached_tile_comes_in_the_negotiated_coding_and_nothing_is_stored(lida, tile_cache_off, accept, coding, unpack):
    url = f"/tiles/lida-buildings/{lida.z}/{lida.x}/{lida.y}.mvt"
    response = Client().get(url, headers={"Accept-Encoding": accept} if accept else {})
    assert response.status_code == 200
    assert response.get("Content-Encoding") == coding
    names = {f["properties"].get("name", "") for f in decode(unpack(response.content))["lida-buildings"]["features"]}
    assert {"School 1", "Hospital"} <= names
    assert not list(tile_cache_off.rglob("*.mvt*")), "the cache is off: nothing written"


def test_uncached_empty_tile_is_204_whatever_the_client_accepts(lida, tile_cache_off):
    url = f"/tiles/lida-buildings/{lida.z}/{lida.x + 10}/{lida.y + 10}.mvt"
    assert Client().get(url, headers={"Accept-Encoding": "br, gzip"}).status_code == 204
