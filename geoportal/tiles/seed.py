"""Pre-render tiles into the server-side cache (`geoportal seed_tiles`).

What an anonymous visitor asks for is seeded: the city's composite tile
(its public layers) and each public layer's own tiles, over the city's extent
(a layer's own extent when it has one) for every zoom in the range. Tiles
already in the cache are skipped, so a seed may be interrupted and resumed;
after an import the new layer version has new keys and a re-seed renders
only what changed. The public tree (`geoportal.tiles.public`) is synced
first, so nginx serves what is seeded from disk.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from geoportal.tiles.cache import IDENTITY, TileAddress, cached_tile, tile_cache, tile_sources
from layers.models import City, Layer
from layers.selectors import layer_list_visible
from layers.tiles import TileSource, tile_for_lonlat, tileset_key

Bounds = tuple[float, float, float, float]


@dataclass(frozen=True)
class SeedJob:
    """One tile to have in the cache."""

    sources: tuple[TileSource, ...]
    z: int
    x: int
    y: int


def tile_range(bounds: Bounds, z: int) -> tuple[range, range]:
    """The x and y ranges of the tiles at zoom z that cover WGS84 `bounds` (minx, miny, maxx, maxy)."""
    x0, y0 = tile_for_lonlat(lon=bounds[0], lat=bounds[3], z=z)
    x1, y1 = tile_for_lonlat(lon=bounds[2], lat=bounds[1], z=z)
    return range(x0, x1 + 1), range(y0, y1 + 1)


def _targets(city: City) -> list[tuple[tuple[TileSource, ...], Bounds]]:
    """(sources, bounds) of the composite and of each public layer whose theme shows it somewhere."""
    layers: Sequence[Layer] = list(layer_list_visible(user=None, city=city))
    city_bounds: Bounds = city.extent.extent  # type: ignore[assignment]
    targets = [(tuple(tile_sources(layers)), city_bounds)] if layers else []
    for layer in layers:
        bounds: Bounds = layer.extent.extent if layer.extent is not None else city_bounds  # type: ignore[assignment]
        targets.append((tuple(tile_sources([layer])), bounds))
    return targets


def seed_jobs(city: City, zooms: range) -> tuple[int, Iterator[SeedJob]]:
    """(total, jobs): every tile of the city's composite and public layers at the given zooms."""
    targets = _targets(city)
    # Zooms at which no source shows give empty tiles that are not worth a cache entry.
    work = [(z, sources, bounds) for z in zooms for sources, bounds in targets if any(s.shows_at(z) for s in sources)]
    total = sum(math.prod(len(r) for r in tile_range(bounds, z)) for z, _, bounds in work)

    def jobs() -> Iterator[SeedJob]:
        for z, sources, bounds in work:
            columns, rows = tile_range(bounds, z)
            for x in columns:
                for y in rows:
                    yield SeedJob(sources, z, x, y)

    return total, jobs()


def seed_one(job: SeedJob) -> bool:
    """Render `job` into the cache unless it is there already; True when it was rendered."""
    cache = tile_cache()
    tile = TileAddress(tileset_key(job.sources), job.z, job.x, job.y)
    if cache is not None and cache.has(tile):
        return False
    cached_tile(sources=job.sources, tile=tile, coding=IDENTITY)
    return True
