"""Server-side tile cache: files under `<data dir>/tiles`, shared by every gunicorn worker and nginx.

Layout: one directory per tile set, `sets/<set key>/<z>/<x>/<y>.mvt`. The set key
(`layers.tiles.tileset_key`) hashes the sources' ids, versions and theme rules
and the render revision, so an entry is never stale: a changed layer has a new
version, hence a new set directory, and the old one is simply never asked for
again (any file-age sweep may delete it). `geoportal.tiles.public` points
nginx at the current set of each public collection and city.

Each tile is stored once per content coding, compressed at write time so
serving it costs a file read: `<y>.mvt` (identity), `<y>.mvt.gz` and, when the
`brotli` package is installed, `<y>.mvt.br`. An empty tile is a zero-byte
`<y>.empty` marker instead: nginx (which serves `<y>.mvt` files only) passes
such requests on, so the geoportal answers them with its own consistent 204.
Files are written to a temporary name and renamed into place (atomic on
POSIX), the identity file last, so a reader that finds it finds the other
codings too.

Settings (`settings.GEOPORTAL`): `TILE_CACHE` (default True) switches the
cache off, e.g. to measure rendering; `TILE_CACHE_DIR` overrides the directory.
"""

from __future__ import annotations

import gzip
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from geoportal.config import project_config
from geoportal.env import get_env
from layers.models import Layer
from layers.tiles import TileSource, render_tile

try:
    import brotli
except ImportError:  # optional: without it tiles are offered as gzip and identity only
    brotli = None

IDENTITY, GZIP, BROTLI = "identity", "gzip", "br"
_SUFFIX = {IDENTITY: ".mvt", GZIP: ".mvt.gz", BROTLI: ".mvt.br"}
EMPTY_SUFFIX = ".empty"
SETS = "sets"
DEFAULT_DATABASE = "geoportal"  # the embedded cluster's own (GEOPORTAL_DB_NAME's default)
GZIP_LEVEL = 6
BROTLI_QUALITY = 5  # near gzip's speed, ~15% smaller on MVT


def codings_available() -> tuple[str, ...]:
    return (BROTLI, GZIP, IDENTITY) if brotli is not None else (GZIP, IDENTITY)


def negotiate(accept_encoding: str) -> str:
    """The coding to send: brotli, then gzip, when the client accepts it (q=0 refuses), else identity."""
    accepted = set()
    for item in accept_encoding.split(","):
        name, _, params = item.strip().partition(";")
        q = params.strip().removeprefix("q=").strip() if params.strip().startswith("q=") else "1"
        try:
            weight = float(q)
        except ValueError:
            weight = 1.0
        if weight > 0:
            accepted.add(name.strip().lower())
    for coding in codings_available():
        if coding == IDENTITY or coding in accepted or "*" in accepted:
            return coding
    return IDENTITY


def compress(data: bytes, coding: str) -> bytes:
    if coding == GZIP:
        return gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0)
    if coding == BROTLI and brotli is not None:
        return bytes(brotli.compress(data, quality=BROTLI_QUALITY))
    return data


def encode(data: bytes) -> dict[str, bytes]:
    """Every coding of a tile; an empty tile has only its (empty) identity form."""
    if not data:
        return {IDENTITY: b""}
    return {coding: compress(data, coding) for coding in codings_available()}


def tile_sources(layers: Sequence[Layer]) -> list[TileSource]:
    """The tile sources of `layers` (in their order) under the configured themes' rules."""
    themes = project_config().themes
    return [TileSource.for_layer(layer, themes.get(layer.theme)) for layer in layers]


@dataclass(frozen=True)
class TileAddress:
    """Tile z/x/y of the tile set `set_key`."""

    set_key: str
    z: int
    x: int
    y: int


@dataclass(frozen=True)
class TileCache:
    root: Path

    def set_dir(self, set_key: str) -> Path:
        return self.root / SETS / set_key

    def _path(self, tile: TileAddress, suffix: str) -> Path:
        return self.set_dir(tile.set_key) / str(tile.z) / str(tile.x) / f"{tile.y}{suffix}"

    def get(self, tile: TileAddress, coding: str) -> tuple[bytes, str] | None:
        """(body, coding) of a cached tile — (b"", identity) when it is empty — or None on a miss."""
        try:
            return self._path(tile, _SUFFIX[coding]).read_bytes(), coding
        except FileNotFoundError:
            pass
        return (b"", IDENTITY) if self._path(tile, EMPTY_SUFFIX).exists() else None

    def has(self, tile: TileAddress) -> bool:
        return self._path(tile, _SUFFIX[IDENTITY]).exists() or self._path(tile, EMPTY_SUFFIX).exists()

    def put(self, tile: TileAddress, encoded: dict[str, bytes]) -> None:
        """Store every coding, the identity form last (its presence marks a complete entry)."""
        folder = self._path(tile, "").parent
        folder.mkdir(parents=True, exist_ok=True)
        if not encoded.get(IDENTITY):
            _write_atomically(self._path(tile, EMPTY_SUFFIX), b"")
            return
        for coding in sorted(encoded, key=lambda c: c == IDENTITY):
            _write_atomically(self._path(tile, _SUFFIX[coding]), encoded[coding])


def _write_atomically(path: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temporary, 0o644)  # nginx reads these as another user
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def tile_cache_root() -> Path:
    """The cache directory, whether or not the cache is switched on.

    The embedded cluster may hold several databases beside one data directory
    (the benchmark's `geoportal_bench` beside the demo's): the public tree
    names collections, so each of those gets a cache of its own.
    """
    configured = settings.GEOPORTAL.get("TILE_CACHE_DIR")
    if configured:
        return Path(str(configured))
    env = get_env()
    root = env.data_dir / "tiles"
    if env.database.embedded and env.database.name != DEFAULT_DATABASE:
        return root / f"db-{env.database.name}"
    return root


def tile_cache() -> TileCache | None:
    """The configured cache, or None when `settings.GEOPORTAL["TILE_CACHE"]` is false."""
    if not settings.GEOPORTAL.get("TILE_CACHE", True):
        return None
    return TileCache(tile_cache_root())


def cached_tile(
    *, sources: Sequence[TileSource], tile: TileAddress, coding: str, rendered: bytes | None = None
) -> tuple[bytes, str]:
    """(body, coding) of a tile of the set `tile.set_key` (= `tileset_key(sources)`): cached, or rendered and stored.

    `rendered`: the tile's bytes when the caller has rendered it already (they are stored, not looked up).
    The coding is the one asked for, or identity for an empty tile.
    """
    cache = tile_cache()
    if cache is not None and rendered is None:
        hit = cache.get(tile, coding)
        if hit is not None:
            return hit
    data = render_tile(sources=sources, z=tile.z, x=tile.x, y=tile.y) if rendered is None else rendered
    if cache is None:  # nothing is stored: compress only into the coding that is sent
        return (compress(data, coding), coding) if data else (b"", IDENTITY)
    encoded = encode(data)
    cache.put(tile, encoded)
    if coding in encoded:
        return encoded[coding], coding
    return encoded[IDENTITY], IDENTITY
