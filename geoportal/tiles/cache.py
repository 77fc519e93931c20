"""Server-side tile cache: files under `<data dir>/tiles`, shared by every gunicorn worker.

An entry is named by `layers.tiles.tile_key` (a hash over the sources' ids,
versions and theme rules, z, x, y and the render revision), so it is never
stale: a changed layer has a new version, hence a new key, and its old entries
are simply never asked for again (`seed_tiles --prune` or any file-age sweep
may delete them).

Each entry is stored once per content coding, compressed at write time so
serving it costs a file read: `<key>.mvt` (identity; zero bytes for an empty
tile), `<key>.mvt.gz` and, when the `brotli` package is installed,
`<key>.mvt.br`. Files are written to a temporary name and renamed into place
(atomic on POSIX), and the identity file last, so a reader that finds it finds
the other codings too.

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

from geoportal.env import get_env
from layers.tiles import TileSource, render_tile, tile_key

try:
    import brotli
except ImportError:  # optional: without it tiles are offered as gzip and identity only
    brotli = None

IDENTITY, GZIP, BROTLI = "identity", "gzip", "br"
_SUFFIX = {IDENTITY: ".mvt", GZIP: ".mvt.gz", BROTLI: ".mvt.br"}
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


def _compress(data: bytes, coding: str) -> bytes:
    if coding == GZIP:
        return gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0)
    if coding == BROTLI and brotli is not None:
        return bytes(brotli.compress(data, quality=BROTLI_QUALITY))
    return data


def encode(data: bytes) -> dict[str, bytes]:
    """Every coding of a tile; an empty tile has only its (empty) identity form."""
    if not data:
        return {IDENTITY: b""}
    return {coding: _compress(data, coding) for coding in codings_available()}


@dataclass(frozen=True)
class TileCache:
    root: Path

    def _path(self, key: str, coding: str) -> Path:
        return self.root / key[:2] / key[2:4] / (key + _SUFFIX[coding])

    def get(self, key: str, coding: str) -> tuple[bytes, str] | None:
        """(body, coding) of a cached tile — the identity form when it is empty — or None on a miss."""
        try:
            if coding != IDENTITY:
                return self._path(key, coding).read_bytes(), coding
            return self._path(key, IDENTITY).read_bytes(), IDENTITY
        except FileNotFoundError:
            pass
        try:  # an empty tile has no compressed forms
            body = self._path(key, IDENTITY).read_bytes()
        except FileNotFoundError:
            return None
        return (body, IDENTITY) if not body else None

    def has(self, key: str) -> bool:
        return self._path(key, IDENTITY).exists()

    def put(self, key: str, encoded: dict[str, bytes]) -> None:
        """Store every coding, the identity form last (its presence marks a complete entry)."""
        folder = self._path(key, IDENTITY).parent
        folder.mkdir(parents=True, exist_ok=True)
        for coding in sorted(encoded, key=lambda c: c == IDENTITY):
            _write_atomically(self._path(key, coding), encoded[coding])


def _write_atomically(path: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def tile_cache() -> TileCache | None:
    """The configured cache, or None when `settings.GEOPORTAL["TILE_CACHE"]` is false."""
    options = settings.GEOPORTAL
    if not options.get("TILE_CACHE", True):
        return None
    root = options.get("TILE_CACHE_DIR") or get_env().data_dir / "tiles"
    return TileCache(Path(str(root)))


def cached_tile(*, sources: Sequence[TileSource], z: int, x: int, y: int, coding: str) -> tuple[bytes, str]:
    """(body, coding) of a tile: from the cache, or rendered, stored in every coding and returned.

    The coding is the one asked for, or identity for an empty tile.
    """
    cache = tile_cache()
    key = tile_key(sources=sources, z=z, x=x, y=y)
    if cache is not None:
        hit = cache.get(key, coding)
        if hit is not None:
            return hit
    data = render_tile(sources=sources, z=z, x=x, y=y)
    if cache is None:  # nothing is stored: compress only into the coding that is sent
        return (_compress(data, coding), coding) if data else (b"", IDENTITY)
    encoded = encode(data)
    cache.put(key, encoded)
    if coding in encoded:
        return encoded[coding], coding
    return encoded[IDENTITY], IDENTITY
