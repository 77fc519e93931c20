"""`geoportal ingest FILE --city SLUG --theme THEME …`: replace a layer's features with a file's."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from geoportal.config import project_config
from ingest.services import IngestResult, LayerOptions, import_file
from ingest.transforms import NAMES as TRANSFORM_NAMES
from ingest.transforms import transform_named
from layers.errors import GeoportalError
from layers.models import NATIONAL

WARNINGS_SHOWN = 20


class Command(BaseCommand):
    help = "Import a GeoPackage, GeoJSON or Shapefile into a layer (replacing its features in one transaction)."
    requires_system_checks: list[str] = []  # no app checks needed; keeps the output to what the command did

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", type=Path, help="the .gpkg, .geojson/.json or .shp file")
        parser.add_argument("--city", required=True, help=f"city slug, or {NATIONAL!r} for a national layer")
        parser.add_argument("--theme", required=True, help="theme slug (config/themes/*.yaml)")
        parser.add_argument("--layer", help="layer slug (default: the theme slug)")
        parser.add_argument("--crs", help="source CRS, e.g. EPSG:32635, when the file has none or a wrong one")
        parser.add_argument("--visibility", choices=("public", "internal", "restricted"))
        parser.add_argument("--source-layer", help="layer inside the file (needed when it has several)")
        parser.add_argument("--attribution", help="attribution text shown with the data")
        parser.add_argument("--license", help="licence of the data, e.g. ODbL-1.0 or CC-BY-4.0")
        parser.add_argument("--transform", choices=TRANSFORM_NAMES, help="per-row mapping of source tags (osm, geoboundaries)")
        parser.add_argument("--force", action="store_true", help="import even when the file is identical to the last import")

    def handle(self, *args: Any, **options: Any) -> None:
        city = None if options["city"] == NATIONAL else options["city"]
        try:
            transform = transform_named(options["transform"], theme=options["theme"]) if options["transform"] else None
            result = import_file(
                config=project_config(),
                path=options["file"],
                city=city,
                theme=options["theme"],
                layer=options["layer"],
                crs=options["crs"],
                source_layer=options["source_layer"],
                options=LayerOptions(
                    visibility=options["visibility"], attribution=options["attribution"], license=options["license"]
                ),
                transform=transform,
                force=options["force"],
            )
        except GeoportalError as exc:
            raise CommandError(exc.describe()) from exc
        self.stdout.write(summary(result))


def summary(result: IngestResult) -> str:
    """The lines printed after an import (also used by load_sample)."""
    layer = result.layer
    if result.noop:
        head = f"{layer.collection_id}: unchanged (identical file), version {layer.version}, {layer.feature_count} features"
        return head
    c = result.counts
    lines = [
        f"{layer.collection_id}: version {layer.version}, {result.run.inserted} features written "
        f"(read {c.read}, repaired {c.repaired}, skipped {c.skipped}) in {result.run.duration_s:.1f} s",
    ]
    if result.warnings:
        lines.append(f"  warnings ({len(result.warnings)}):")
        lines += [f"  - {w}" for w in result.warnings[:WARNINGS_SHOWN]]
        if len(result.warnings) > WARNINGS_SHOWN:
            lines.append(f"  … and {len(result.warnings) - WARNINGS_SHOWN} more (see the import run {result.run.pk})")
    return "\n".join(lines)
