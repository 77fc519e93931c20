"""`geoportal seed_tiles`: fills the tile cache with what anonymous visitors will ask for."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from layers.models import Feature

from .conftest import decode


def test_seed_fills_the_cache_that_tile_requests_then_use(lida, tile_cache_dir):
    err, out = io.StringIO(), io.StringIO()
    call_command("seed_tiles", city="lida", minzoom=14, maxzoom=14, stdout=out, stderr=err)
    assert "tiles in the cache for z14-14" in out.getvalue()
    assert err.getvalue().rstrip().endswith("tiles/s") and "[" + "#" * 30 + "]" in err.getvalue()
    seeded = len(list(tile_cache_dir.rglob("*.mvt")))
    assert seeded > 4
    # Served from the seeded entry: a change that skipped the version bump is not visible.
    Feature.objects.filter(layer=lida.buildings, fid="b2").update(properties={"name": "Clinic"})
    tile = decode(Client().get(f"/tiles/lida-buildings/{lida.z}/{lida.x}/{lida.y}.mvt").content)
    assert "Hospital" in {f["properties"].get("name") for f in tile["lida-buildings"]["features"]}
    again = io.StringIO()
    call_command("seed_tiles", city="lida", minzoom=14, maxzoom=14, quiet=True, stdout=again)
    assert again.getvalue().strip().endswith(", 0 newly rendered.")
    assert len(list(tile_cache_dir.rglob("*.mvt"))) == seeded


def test_seed_never_stores_hidden_layers(lida, tile_cache_dir):
    call_command("seed_tiles", city="lida", minzoom=14, maxzoom=14, quiet=True, stdout=io.StringIO())
    for path in tile_cache_dir.rglob("*.mvt"):
        assert not {"lida-pipes", "lida-secret"} & set(decode(path.read_bytes()) if path.stat().st_size else {})


@pytest.mark.parametrize(("options", "says"), [({"minzoom": 9, "maxzoom": 3}, "Zoom range"), ({"city": "atlantis"}, "atlantis")])
def test_seed_rejects_bad_arguments(lida, options, says):
    with pytest.raises(CommandError, match=says):
        call_command("seed_tiles", **{"city": "lida", "minzoom": 14, "maxzoom": 14, "quiet": True, **options})
