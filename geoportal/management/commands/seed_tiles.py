"""`geoportal seed_tiles --city SLUG --minzoom A --maxzoom B`: pre-render a city's tiles into the tile cache."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from geoportal.tiles.cache import tile_cache
from geoportal.tiles.public import sync_public_tree
from geoportal.tiles.seed import seed_jobs, seed_one
from layers.errors import GeoportalError
from layers.selectors import city_get
from layers.tiles import MAX_ZOOM

BAR_WIDTH = 30


def progress(done: int, total: int, rendered: int, started: float, z: int) -> str:
    """One status line: a bar, counts, zoom and rate (carriage return: redrawn in place)."""
    share = done / total if total else 1.0
    filled = int(share * BAR_WIDTH)
    rate = done / max(time.monotonic() - started, 1e-6)
    bar = "#" * filled + "." * (BAR_WIDTH - filled)
    return f"\r[{bar}] {done}/{total} tiles ({rendered} rendered) z{z} {rate:.0f} tiles/s"


class Command(BaseCommand):
    help = "Pre-render the tiles anonymous visitors see (city composite + each public layer) into the tile cache."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--city", required=True, help="city slug (see config/cities.yaml)")
        parser.add_argument("--minzoom", type=int, default=10)
        parser.add_argument("--maxzoom", type=int, default=16)
        parser.add_argument("--quiet", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        low, high = options["minzoom"], options["maxzoom"]
        if not 0 <= low <= high <= MAX_ZOOM:
            raise CommandError(f"Zoom range {low}..{high} is invalid: use 0 <= --minzoom <= --maxzoom <= {MAX_ZOOM}.")
        if tile_cache() is None:
            raise CommandError("The tile cache is switched off (settings.GEOPORTAL['TILE_CACHE']); nothing to seed.")
        try:
            city = city_get(slug=options["city"])
        except GeoportalError as error:
            raise CommandError(str(error)) from error
        self.stderr.style_func = None  # the progress bar is not an error: no red
        sync_public_tree()  # nginx serves what is seeded, from the current tile sets
        total, jobs = seed_jobs(city, range(low, high + 1))
        started, done, rendered = time.monotonic(), 0, 0
        for job in jobs:
            rendered += seed_one(job)
            done += 1
            if not options["quiet"] and (done % 25 == 0 or done == total):
                self.stderr.write(progress(done, total, rendered, started, job.z), ending="")
                self.stderr.flush()
        if not options["quiet"]:
            self.stderr.write("")
        self.stdout.write(f"{city.slug}: {done} tiles in the cache for z{low}-{high}, {rendered} newly rendered.")
