"""The public tree nginx serves: links to the current tile sets of public collections and city composites only."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator

import pytest
from django.db import transaction
from django.test import Client

from geoportal.tiles import public as public_tree
from geoportal.tiles.public import sync_public_tree

from .conftest import decode

pytestmark = pytest.mark.django_db(transaction=True)  # the tree follows commits


def links(tile_cache_dir) -> dict[str, str]:
    public = tile_cache_dir / "public"
    entries = [p for p in public.iterdir() if p.name != "city"] + list((public / "city").iterdir())
    return {str(p.relative_to(public)): os.readlink(p) for p in entries}


def test_only_public_collections_and_composites_have_links(lida, tile_cache_dir):
    assert set(links(tile_cache_dir)) == {"lida-buildings", "lida-roads", "lida-addresses", "city/lida"}
    assert all(target.startswith(("../sets/", "../../sets/")) for target in links(tile_cache_dir).values())


def test_deleting_a_layer_removes_its_link_and_moves_the_composite(lida, tile_cache_dir):
    before = links(tile_cache_dir)
    lida.roads.delete()
    after = links(tile_cache_dir)
    assert "lida-roads" not in after and after["city/lida"] != before["city/lida"]
    assert after["lida-buildings"] == before["lida-buildings"]


def test_a_missed_signal_is_healed_by_the_next_anonymous_request(lida, tile_cache_dir):
    link = tile_cache_dir / "public" / "lida-buildings"
    right = os.readlink(link)
    link.unlink()
    os.symlink("../sets/0000-an-old-set", link)  # as if a commit's signal had been lost
    assert Client().get(f"/tiles/lida-buildings/{lida.z}/{lida.x}/{lida.y}.mvt").status_code == 200
    assert os.readlink(link) == right


def test_switching_the_cache_off_empties_the_tree(lida, tile_cache_dir, settings):
    settings.GEOPORTAL = {**settings.GEOPORTAL, "TILE_CACHE": False}
    assert sync_public_tree() == {}
    assert links(tile_cache_dir) == {}


def test_a_changing_layer_leaves_the_tree_before_its_commit_and_returns_after(lida, tile_cache_dir):
    public = tile_cache_dir / "public"
    before = links(tile_cache_dir)
    with transaction.atomic():
        lida.roads.version += 1
        lida.roads.save()
        # Should the process die now, nothing names the roads' old tile set.
        assert not (public / "lida-roads").is_symlink() and not (public / "city" / "lida").is_symlink()
        assert (public / "lida-buildings").is_symlink()
    after = links(tile_cache_dir)
    assert after["lida-roads"] != before["lida-roads"] and after["city/lida"] != before["city/lida"]


@pytest.fixture
def heal_backoff() -> Iterator[None]:
    """The back-off is per process: never let one test's failure hold back another test's heal."""
    yield
    public_tree._heal_backoff.failed_at = None


def test_an_unwritable_tree_still_serves_tiles_and_is_not_resynced_on_every_request(
    lida, tile_cache_dir, caplog, monkeypatch, heal_backoff
):
    public = tile_cache_dir / "public"
    right = os.readlink(public / "lida-buildings")
    shutil.rmtree(public)
    public.write_bytes(b"")  # a file where the tree belongs: no sync can write it, not even as root
    path = f"/tiles/lida-buildings/{lida.z}/{lida.x}/{lida.y}.mvt"

    def served() -> int:
        response = Client().get(path)
        assert response.status_code == 200
        return len(decode(response.content)["lida-buildings"]["features"])

    with caplog.at_level(logging.INFO, logger="geoportal.tiles.public"):
        assert served() == 3  # the failed sync costs the visitor nothing
        public.unlink()  # the obstacle is gone, but this process waits out the back-off
        assert [served(), served()] == [3, 3]
        assert not public.exists()  # neither request tried to sync again
        public.write_bytes(b"")
        monkeypatch.setattr(public_tree, "HEAL_BACKOFF_SECONDS", 0.0)
        assert served() == 3  # tries again, fails again: not logged a second time
        public.unlink()
        assert served() == 3
    assert os.readlink(public / "lida-buildings") == right  # once writable, the next retry heals the tree
    messages = [record.getMessage() for record in caplog.records]
    assert sum("cannot re-sync the public tree" in m for m in messages) == 1
    assert sum("synced again" in m for m in messages) == 1
