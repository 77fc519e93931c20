"""`geoportal ingest FILE --city SLUG --theme THEME …`: load a file into a layer (replace/append/upsert/sync)."""

from __future__ import annotations

import sys
import time
from argparse import ArgumentParser
from pathlib import Path
from typing import Any, TextIO

import pyogrio
from django.core.management.base import BaseCommand, CommandError

from geoportal.config import project_config
from ingest.services import MODES, IngestResult, LayerOptions, import_file
from ingest.transforms import NAMES as TRANSFORM_NAMES
from ingest.transforms import transform_named
from layers.errors import GeoportalError
from layers.models import NATIONAL

WARNINGS_SHOWN = 20


class ProgressBar:
    """A plain one-line bar on stderr ("[#####.....] 52% 10400/20000 features"), redrawn at most 5× a second."""

    def __init__(self, stream: TextIO, label: str, width: int = 30) -> None:
        self.stream, self.label, self.width = stream, label, width
        self._last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self._last < 0.2:
            return
        self._last = now
        share = done / total if total else 1.0
        filled = int(share * self.width)
        bar = "#" * filled + "." * (self.width - filled)
        end = "\n" if done >= total else ""
        self.stream.write(f"\r{self.label} [{bar}] {share:4.0%} {done}/{total} features{end}")
        self.stream.flush()


class Command(BaseCommand):
    help = (
        "Import a vector file (Shapefile/zip, GeoPackage, GeoJSON(Seq), CSV/TSV, KML/KMZ, GML, FlatGeobuf, GPX, DXF, "
        "OSM) into a layer, in one transaction."
    )
    requires_system_checks: list[str] = []  # no app checks needed; keeps the output to what the command did

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", type=Path, help="the data file (.shp or .zip for shapefiles)")
        parser.add_argument("--city", required=True, help=f"city slug, or {NATIONAL!r} for a national layer")
        parser.add_argument("--theme", required=True, help="theme slug (config/themes/*.yaml)")
        parser.add_argument("--layer", help="layer slug (default: the theme slug)")
        parser.add_argument("--crs", help="source CRS (EPSG code, PROJ string, WKT or a city's local CRS name)")
        parser.add_argument("--encoding", help="text encoding of the source, e.g. cp1251 (default: declared or detected)")
        parser.add_argument("--mode", choices=MODES, default="replace", help="replace (default), append, upsert, sync")
        parser.add_argument("--key", help="source field identifying a feature (needed by upsert and sync)")
        parser.add_argument("--visibility", choices=("public", "internal", "restricted"))
        parser.add_argument("--source-layer", help="layer inside the file (needed when it has several)")
        parser.add_argument("--all-layers", action="store_true", help="import every layer of the file as its own layer")
        parser.add_argument("--skip-other-geometries", action="store_true", help="skip features of another geometry type")
        parser.add_argument("--attribution", help="attribution text shown with the data")
        parser.add_argument("--license", help="licence of the data, e.g. ODbL-1.0 or CC-BY-4.0")
        parser.add_argument("--transform", choices=TRANSFORM_NAMES, help="per-row mapping of source tags (osm, geoboundaries)")
        parser.add_argument("--force", action="store_true", help="import even when the file is identical to the last import")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            source_layers: list[str | None] = [options["source_layer"]]
            if options["all_layers"]:
                source_layers = [str(name) for name, _kind in pyogrio.list_layers(options["file"])]
            for source_layer in source_layers:
                self.stdout.write(summary(self._import(options, source_layer, several=len(source_layers) > 1)))
        except GeoportalError as exc:
            raise CommandError(exc.describe()) from exc
        except pyogrio.errors.DataSourceError as exc:
            raise CommandError(f"{options['file']}: cannot be read ({exc}).") from exc

    def _import(self, options: dict[str, Any], source_layer: str | None, *, several: bool) -> IngestResult:
        city = None if options["city"] == NATIONAL else options["city"]
        transform = transform_named(options["transform"], theme=options["theme"]) if options["transform"] else None
        layer = options["layer"]
        if several and source_layer is not None:
            layer = _slug(f"{layer or options['theme']}_{source_layer}")
        stream = getattr(self.stderr, "_out", sys.stderr)
        progress = None if options["no_progress"] else ProgressBar(stream, f"{options['file'].name}:{source_layer or ''}")
        return import_file(
            config=project_config(),
            path=options["file"],
            city=city,
            theme=options["theme"],
            layer=layer,
            crs=options["crs"],
            source_layer=source_layer,
            options=LayerOptions(
                visibility=options["visibility"], attribution=options["attribution"], license=options["license"]
            ),
            transform=transform,
            force=options["force"],
            mode=options["mode"],
            key=options["key"],
            encoding=options["encoding"],
            skip_other_geometries=options["skip_other_geometries"],
            progress=progress,
        )


def _slug(text: str) -> str:
    cleaned = "".join(c if c.isascii() and c.isalnum() else "_" for c in text.lower()).strip("_")
    return cleaned[:80] or "layer"


def summary(result: IngestResult) -> str:
    """The report printed after an import (also used by load_sample and ingest_osm)."""
    layer, run = result.layer, result.run
    if result.noop:
        return f"{layer.collection_id}: unchanged (identical file), version {layer.version}, {layer.feature_count} features"
    c = result.counts
    what = (
        f"{run.inserted} features written"
        if run.mode == "replace"
        else f"{run.mode}: {run.inserted} inserted, {run.updated} updated, {run.deleted} deleted"
    )
    lines = [
        f"{layer.collection_id}: version {layer.version}, {what} "
        f"(read {c.read}, repaired {c.repaired}, skipped {c.skipped}) in {run.duration_s:.1f} s",
        f"  source: {run.format} ({run.driver}), CRS {run.source_crs}, encoding {run.encoding or 'n/a'}, "
        f"sha256 {run.sha256[:12]}…, import run {run.pk}",
    ]
    if result.spatial_order_queued:
        lines.append(
            "  spatial ordering queued: the worker of `geoportal serve` stores the features in map order; "
            f"`geoportal layer optimize {layer.collection_id}` runs it now"
        )
    if result.warnings:
        lines.append(f"  warnings ({len(result.warnings)}):")
        lines += [f"  - {w}" for w in result.warnings[:WARNINGS_SHOWN]]
        if len(result.warnings) > WARNINGS_SHOWN:
            lines.append(f"  … and {len(result.warnings) - WARNINGS_SHOWN} more (see the import run {run.pk})")
    return "\n".join(lines)
