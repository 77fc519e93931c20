"""`geoportal ingest_osm FILE.osm.pbf`: OSM roads, buildings, utilities, addresses and boundaries for every
registered city the extract covers (clipped to each city's extent)."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from geoportal.config import project_config
from geoportal.management.commands.ingest import summary
from ingest.osm import OSM_THEMES, import_osm
from layers.errors import GeoportalError


class Command(BaseCommand):
    help = "Build OSM layers (roads, buildings, utilities, addresses, boundaries) for every covered city."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", type=Path, help="an OpenStreetMap extract (.osm.pbf or .osm)")
        parser.add_argument("--city", action="append", help="only this city (repeatable); default: every covered city")
        themes = [t.theme for t in OSM_THEMES]
        parser.add_argument("--theme", action="append", choices=themes, help="only this theme (repeatable)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            results = import_osm(
                config=project_config(),
                path=options["file"],
                cities=options["city"],
                themes=options["theme"],
                progress=lambda text: self.stderr.write(text),
            )
        except GeoportalError as exc:
            raise CommandError(exc.describe()) from exc
        for result in results:
            self.stdout.write(summary(result))
        self.stdout.write(f"{len(results)} layers from {options['file'].name}")
