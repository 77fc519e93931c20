"""The public tree: what nginx may serve from disk without asking the geoportal.

`<cache>/public/<cid>` and `<cache>/public/city/<city>` are symlinks to the
*current* tile set directory (`<cache>/sets/<set key>`) of every public
collection and of each city's composite of its public layers — exactly the
tiles an anonymous visitor gets at the unversioned URLs
`/tiles/<cid>/{z}/{x}/{y}.mvt` and `/tiles/city/<city>/{z}/{x}/{y}.mvt`, so
nginx serves `public/<path after /tiles/>` with `try_files` and passes misses on.

Never stale: `sync_public_tree` repoints the links under an exclusive file
lock, reading the layers from the database *inside* the lock. It runs after
every commit that changes a layer (`layers.signals.layers_changed`), at
`geoportal setup`, `serve` and `seed_tiles`, and whenever an anonymous request
finds a link that does not name the tile set it just computed (a missed
signal, a changed theme or render revision; not again within a minute of a
failed attempt, see `heal_public_entry`). The changed layer's entries are
also removed before the commit (`layers.signals.layer_changing`), which
narrows what a process dying between commit and sync could leave behind to
a sync that ran in between. A renderer that read a layer before its change can
only write into the old set directory, which no link names any more. If the
database does not answer a sync, the tree is emptied. A collection that is not public has no link (a visibility change removes
it), and `sets/` itself lies outside the directory nginx serves. With the
cache switched off (GEOPORTAL_TILE_CACHE=0) the sync empties the tree.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.dispatch import receiver

from geoportal.tiles.cache import SETS, TileCache, tile_cache, tile_cache_root, tile_sources
from layers.models import Layer
from layers.selectors import layer_list_visible
from layers.signals import layer_changing, layers_changed
from layers.tiles import tileset_key

PUBLIC = "public"
CITY = "city"  # public/city/<city>; collection ids always contain a '-', so no collection is called this
LOCK_FILE = "public.lock"
HEAL_BACKOFF_SECONDS = 60.0  # after a failed re-sync, anonymous requests skip it this long (per process)

log = logging.getLogger(__name__)


def composite_name(city_slug: str) -> str:
    return f"{CITY}/{city_slug}"


def public_sets() -> dict[str, str]:
    """Entry name (`<cid>` or `city/<city>`) → set key, for every tile set anonymous visitors get."""
    layers = list(layer_list_visible(user=None))
    wanted = {layer.collection_id: tileset_key(tile_sources([layer])) for layer in layers}
    per_city: dict[str, list[Layer]] = {}
    for layer in layers:
        if layer.city is not None:
            per_city.setdefault(layer.city.slug, []).append(layer)
    for slug, members in per_city.items():
        wanted[composite_name(slug)] = tileset_key(tile_sources(members))
    return wanted


def _target(cache: TileCache, name: str, set_key: str) -> str:
    """The relative link text: the tree stays valid wherever the cache directory is mounted (nginx's container)."""
    link = cache.root / PUBLIC / name
    return os.path.relpath(cache.root / SETS / set_key, link.parent)


def links_to(cache: TileCache, name: str, set_key: str) -> bool:
    """Whether public/<name> is the link to the set `set_key` (a readlink, no database)."""
    try:
        return os.readlink(cache.root / PUBLIC / name) == _target(cache, name, set_key)
    except OSError:
        return False


@contextmanager
def _locked(cache: TileCache) -> Iterator[None]:
    cache.root.mkdir(parents=True, exist_ok=True)
    with open(cache.root / LOCK_FILE, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _existing(root: Path) -> set[str]:
    names = {entry.name for entry in root.iterdir() if entry.name != CITY and not entry.name.startswith(".")}
    return names | {composite_name(entry.name) for entry in (root / CITY).iterdir() if not entry.name.startswith(".")}


def _point(cache: TileCache, name: str, set_key: str) -> None:
    """Make public/<name> a link to the set `set_key`, replacing the old link in one rename."""
    if links_to(cache, name, set_key):
        return
    cache.set_dir(set_key).mkdir(parents=True, exist_ok=True)
    link = cache.root / PUBLIC / name
    temporary = link.with_name(f".{link.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)
    os.symlink(_target(cache, name, set_key), temporary)
    os.replace(temporary, link)


def _remove(cache: TileCache, name: str) -> None:
    (cache.root / PUBLIC / name).unlink(missing_ok=True)


def sync_public_tree() -> dict[str, str]:
    """Point every public entry at its current tile set and remove the others; returns name → set key.

    The database is read inside the lock, so of two concurrent calls the later
    one reads every commit the earlier one saw, and the last writer of a link
    is always right. A link that cannot be replaced is removed: its requests
    then go to the geoportal, which is slower but never stale.
    """
    # With the cache switched off nothing may be served from it: every entry goes.
    enabled = tile_cache() is not None
    cache = TileCache(tile_cache_root())
    root = cache.root / PUBLIC
    if not enabled and not root.exists():
        return {}
    (root / CITY).mkdir(parents=True, exist_ok=True)
    with _locked(cache):
        try:
            wanted = public_sets() if enabled else {}
        except Exception:
            # The database did not answer: serve nothing from disk rather than anything stale.
            for name in _existing(root):
                _remove(cache, name)
            raise
        for name in _existing(root) - wanted.keys():
            _remove(cache, name)
        for name, set_key in wanted.items():
            try:
                _point(cache, name, set_key)
            except OSError:
                log.exception("tile cache: cannot point %s at tile set %s; removing the entry", name, set_key)
                _remove(cache, name)
    return wanted


@dataclass
class _HealBackoff:
    """When this process last failed to re-sync the tree (time.monotonic()), or None while syncs succeed."""

    failed_at: float | None = None

    def waiting(self) -> bool:
        return self.failed_at is not None and time.monotonic() - self.failed_at < HEAL_BACKOFF_SECONDS


_heal_backoff = _HealBackoff()


def heal_public_entry(name: str, set_key: str) -> None:
    """Re-sync when public/<name> does not name the set an anonymous request just computed (cheap when it does).

    A tree that cannot be written (full disk, wrong owner, a file where a directory belongs) must not
    cost every anonymous tile request a failed sync under the lock: after a failure this process waits
    HEAL_BACKOFF_SECONDS before trying again and logs the failure once, until a sync succeeds. The tile
    is served by the geoportal either way; nginx falls through to it when the tree has no entry.
    """
    cache = tile_cache()
    if cache is None or links_to(cache, name, set_key) or _heal_backoff.waiting():
        return
    try:
        sync_public_tree()
    except OSError:
        if _heal_backoff.failed_at is None:
            log.exception("tile cache: cannot re-sync the public tree under %s; retrying at most once a minute", cache.root)
        _heal_backoff.failed_at = time.monotonic()
        return
    if _heal_backoff.failed_at is not None:
        log.info("tile cache: the public tree under %s is synced again", cache.root)
    _heal_backoff.failed_at = None


def withdraw(layer: Layer) -> None:
    """Remove the layer's and its city's entries (no lock: a removal only sends requests to the geoportal)."""
    cache = TileCache(tile_cache_root())
    _remove(cache, layer.collection_id)
    if layer.city_id is not None:
        _remove(cache, composite_name(layer.city.slug))  # type: ignore[union-attr]


@receiver(layer_changing, dispatch_uid="geoportal.tiles.public.withdraw")
def _layer_changing(sender: Any, layer: Layer, **kwargs: Any) -> None:
    # Before the commit: should the process die before `layers_changed`, no link names the old set.
    withdraw(layer)


@receiver(layers_changed, dispatch_uid="geoportal.tiles.public.sync")
def _layers_changed(sender: Any, **kwargs: Any) -> None:
    sync_public_tree()
