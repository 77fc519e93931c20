"""Importing a vector file into a layer: read in batches → stage with COPY → swap in one transaction.

The old features and version of the layer stay exactly as they were unless the whole
import succeeds; every attempt, failed or not, leaves an ImportRun that says what happened.
"""

from __future__ import annotations

import getpass
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.contrib.gis.geos import Polygon
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from psycopg import Error as PsycopgError
from pyproj import CRS

from config.loader import Config, ThemeConfig
from ingest.crs import crs_label, parse_crs_option, resolve_source_crs, to_wgs84
from ingest.geometry import prepare
from ingest.mapping import PropertyMapper, RowTransform, json_type, merge_field_type, rows_from_columns
from ingest.readers import DEFAULT_BATCH, Source, iter_batches, open_source, sha256_of, source_files
from ingest.report import Counts, WarningLog
from ingest.selectors import last_succeeded_import
from layers.errors import GeoportalError, IngestError, InvalidParameter
from layers.models import NATIONAL, ChangeOp, City, FeatureChange, ImportRun, ImportStatus, Layer, Visibility
from layers.selectors import layer_find
from layers.services import layer_ensure
from layers.sql import quote_ident

LAYER_SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_]*$")


@dataclass(frozen=True)
class LayerOptions:
    """What the layer should look like besides its features (None = leave as is / theme default)."""

    title: dict[str, str] | None = None
    abstract: dict[str, str] | None = None
    visibility: str | None = None
    attribution: str | None = None
    license: str | None = None


@dataclass
class IngestResult:
    run: ImportRun
    layer: Layer
    counts: Counts
    warnings: list[str] = field(default_factory=list)

    @property
    def noop(self) -> bool:
        return self.run.status == ImportStatus.NOOP


@dataclass
class _Staged:
    table: str
    counts: Counts
    fields: dict[str, str]


def import_file(
    *,
    config: Config,
    path: Path,
    city: str | None,
    theme: str,
    layer: str | None = None,
    crs: str | None = None,
    source_layer: str | None = None,
    options: LayerOptions | None = None,
    transform: RowTransform | None = None,
    force: bool = False,
    actor: str | None = None,
    batch_size: int = DEFAULT_BATCH,
) -> IngestResult:
    """Replace the features of layer (city, layer or theme) with those of the file at `path`."""
    theme_config = _theme(config, theme)
    city_row = _city(city)
    slug = _layer_slug(layer or theme_config.slug)
    override = parse_crs_option(crs) if crs else None
    options = options or LayerOptions()
    if options.visibility is not None and options.visibility not in Visibility.values:
        raise InvalidParameter("visibility", f"--visibility {options.visibility!r} is not one of {', '.join(Visibility.values)}.")
    if not path.is_file():
        raise InvalidParameter("file", f"{path}: no such file.", hint="Check the path; shapefiles are given by their .shp file.")
    started = time.monotonic()
    existing = layer_find(city=city_row, slug=slug)
    if existing is not None and existing.theme != theme_config.slug:
        raise InvalidParameter(
            "theme",
            f"Layer {existing.collection_id!r} already exists with theme {existing.theme!r}, not {theme_config.slug!r}.",
            hint=f"Use --theme {existing.theme}, or a different --layer slug.",
        )
    run = ImportRun.objects.create(
        layer=existing,
        collection_id=f"{city_row.slug if city_row else NATIONAL}-{slug}",
        source_name=path.name,
        actor=actor or _os_user(),
        layer_version=existing.version if existing else None,
    )
    warnings = WarningLog()
    try:
        run.sha256 = sha256_of(source_files(path))
        source = open_source(path, source_layer)
        source_crs, crs_warning = resolve_source_crs(source.crs, override, source=source.name)
        if crs_warning:
            warnings.add("crs-override", crs_warning)
        _describe_source(run, source, source_crs)
        previous = last_succeeded_import(layer=existing) if existing is not None and not force else None
        if previous is not None and (previous.sha256, previous.source_name) == (run.sha256, run.source_name):
            return _finish_noop(run, previous, theme_config, options, started)
        with transaction.atomic():
            return _replace(
                run, source, source_crs, city_row, slug, theme_config, options, transform, warnings, batch_size, started
            )
    except GeoportalError as exc:
        _finish_failed(run, exc, warnings, started)
        raise
    except (DatabaseError, PsycopgError) as exc:
        error = IngestError(f"the database refused the import: {str(exc).strip().splitlines()[0]}.", source=path.name)
        _finish_failed(run, error, warnings, started)
        raise error from exc


def _theme(config: Config, slug: str) -> ThemeConfig:
    if slug not in config.themes:
        raise InvalidParameter("theme", f"Theme {slug!r} is not configured; themes: {', '.join(sorted(config.themes))}.")
    return config.themes[slug]


def _city(slug: str | None) -> City | None:
    if slug is None:
        return None
    row = City.objects.filter(slug=slug).first()
    if row is None:
        known = list(City.objects.values_list("slug", flat=True))
        hint = f"Valid cities: {', '.join(known)}." if known else "No cities are registered yet: run `geoportal setup`."
        raise InvalidParameter("city", f"City {slug!r} is not registered.", hint=hint)
    return row


def _layer_slug(slug: str) -> str:
    if not LAYER_SLUG_RE.match(slug) or len(slug) > 80:
        raise InvalidParameter(
            "layer", f"Layer slug {slug!r} is not valid.", hint="Use lower-case ASCII letters, digits and '_'."
        )
    return slug


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _describe_source(run: ImportRun, source: Source, crs: CRS) -> None:
    run.source_name = source.name
    run.format = source.format
    run.driver = source.driver
    run.encoding = source.encoding or ""
    run.source_crs = crs_label(crs)


def _finish_noop(run: ImportRun, previous: ImportRun, theme: ThemeConfig, options: LayerOptions, started: float) -> IngestResult:
    """Identical file, layer untouched since: record it, apply metadata changes only, keep the version."""
    assert previous.layer is not None
    layer = _ensure_layer(previous.layer.city, previous.layer.slug, theme, options)
    run.status = ImportStatus.NOOP
    run.layer = layer
    run.layer_version = layer.version
    run.warnings = [f"identical to import run {previous.pk} (sha256 {run.sha256[:12]}…): nothing changed"]
    _stamp(run, started)
    run.save()
    return IngestResult(run=run, layer=layer, counts=Counts(), warnings=list(run.warnings))


def _finish_failed(run: ImportRun, exc: GeoportalError, warnings: WarningLog, started: float) -> None:
    run.status = ImportStatus.FAILED
    run.error = exc.describe()
    run.warnings = warnings.lines()
    _stamp(run, started)
    run.save()


def _stamp(run: ImportRun, started: float) -> None:
    run.finished_at = timezone.now()
    run.duration_s = round(time.monotonic() - started, 3)


def _ensure_layer(city: City | None, slug: str, theme: ThemeConfig, options: LayerOptions) -> Layer:
    return layer_ensure(
        city=city,
        slug=slug,
        theme=theme,
        title=options.title,
        visibility=options.visibility,
        attribution=options.attribution,
        license=options.license,
    )


def _replace(
    run: ImportRun,
    source: Source,
    source_crs: CRS,
    city: City | None,
    slug: str,
    theme: ThemeConfig,
    options: LayerOptions,
    transform: RowTransform | None,
    warnings: WarningLog,
    batch_size: int,
    started: float,
) -> IngestResult:
    """Runs inside one transaction: stage every row, then swap the layer's features."""
    staged = _stage(run, source, source_crs, theme, transform, warnings, batch_size)
    if staged.counts.written == 0:
        raise IngestError(
            f"none of the {staged.counts.read} features has a usable geometry.",
            source=source.name,
            hint="See the warnings of the import run for why each was skipped.",
        )
    _reject_duplicate_fids(staged.table, source)
    layer = _ensure_layer(city, slug, theme, options)
    layer = Layer.objects.select_for_update().get(pk=layer.pk)
    inserted, bbox = _swap_features(layer, staged.table)
    layer.version += 1
    layer.feature_count = inserted
    layer.extent = Polygon.from_bbox(bbox)
    layer.fields = staged.fields
    layer.geometry_type = theme.geometry_type
    layer.lineage = (
        f"{run.format} {source.path.name} (layer {source.layer!r}, {run.source_crs}), "
        f"imported {timezone.now():%Y-%m-%d} by {run.actor}"
    )
    if options.abstract is not None:
        layer.abstract = options.abstract
    layer.save()
    FeatureChange.objects.create(layer=layer, version=layer.version, op=ChangeOp.RESET)
    counts = staged.counts
    run.layer = layer
    run.layer_version = layer.version
    run.status = ImportStatus.SUCCEEDED
    run.read, run.inserted, run.repaired, run.skipped = counts.read, inserted, counts.repaired, counts.skipped
    run.warnings = warnings.lines()
    _stamp(run, started)
    run.save()
    return IngestResult(run=run, layer=layer, counts=counts, warnings=list(run.warnings))


def _stage(
    run: ImportRun,
    source: Source,
    source_crs: CRS,
    theme: ThemeConfig,
    transform: RowTransform | None,
    warnings: WarningLog,
    batch_size: int,
) -> _Staged:
    """COPY the prepared rows into a temporary table that disappears with the transaction."""
    table = quote_ident(f"ingest_staging_{run.pk}")
    counts = Counts()
    fields: dict[str, str] = {}
    mapper = PropertyMapper(theme, warnings)
    reproject = to_wgs84(source_crs)
    connection.ensure_connection()
    pg = connection.connection
    with pg.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE {table} (n integer, fid text, geom geometry, properties jsonb) ON COMMIT DROP")
        for batch in iter_batches(source, batch_size):
            rows = list(_batch_rows(batch, source, reproject, theme, mapper, transform, warnings, counts, fields))
            with cursor.copy(f"COPY {table} (n, fid, geom, properties) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
    for attribute in theme.attributes:  # the theme's type wins over what the values looked like
        if attribute.name in fields:
            fields[attribute.name] = attribute.type
    return _Staged(table=table, counts=counts, fields=dict(sorted(fields.items())))


def _batch_rows(
    batch: Any,
    source: Source,
    reproject: Any,
    theme: ThemeConfig,
    mapper: PropertyMapper,
    transform: RowTransform | None,
    warnings: WarningLog,
    counts: Counts,
    fields: dict[str, str],
) -> Iterator[tuple[int, str, str, str]]:
    first = batch.start + 1
    geometries = prepare(batch.wkb, first_feature=first, reproject=reproject, target=theme.geometry_type, warnings=warnings)
    props_rows = rows_from_columns(batch.columns, source.ogr_types, first_feature=first, warnings=warnings)
    counts.read += len(props_rows)
    counts.repaired += geometries.repaired
    counts.skipped += geometries.skipped
    for index, (ewkb, props) in enumerate(zip(geometries.ewkb_hex, props_rows, strict=True)):
        if ewkb is None:
            continue
        number = first + index
        fid = str(batch.fids[index])
        if source.id_field is not None:
            own_id = props.pop(source.id_field, None)
            fid = str(own_id) if own_id is not None else fid
        if transform is not None:
            props = _apply(transform, props, number, source)
        props = mapper.map(props, number)
        for key, value in props.items():
            if value is not None:
                fields[key] = merge_field_type(fields.get(key), json_type(value))
        counts.written += 1
        yield number, fid, ewkb, json.dumps(props, ensure_ascii=False, allow_nan=False, default=str)


def _apply(transform: RowTransform, props: dict[str, Any], number: int, source: Source) -> dict[str, Any]:
    try:
        return transform(props)
    except (ValueError, TypeError, KeyError) as exc:
        raise IngestError(f"the row transform failed: {exc}.", source=source.name, feature=number) from None


def _reject_duplicate_fids(table: str, source: Source) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT fid, min(n), count(*) FROM {table} GROUP BY fid HAVING count(*) > 1 ORDER BY min(n) LIMIT 5")
        duplicates = cursor.fetchall()
    if duplicates:
        listed = ", ".join(f"{fid!r} ×{count} (first at feature {first})" for fid, first, count in duplicates)
        raise IngestError(
            f"feature ids are not unique: {listed}.",
            source=source.name,
            hint="Each feature needs its own id; for GeoJSON remove or fix the repeated 'id' members.",
        )


def _swap_features(layer: Layer, table: str) -> tuple[int, tuple[float, float, float, float]]:
    """Delete the layer's features and insert the staged ones; returns (count, bbox)."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM layers_feature WHERE layer_id = %s", [layer.pk])
        cursor.execute(
            f"INSERT INTO layers_feature (layer_id, fid, geom, properties, created_at, updated_at) "
            f"SELECT %s, fid, ST_SetSRID(geom, 4326), properties, now(), now() FROM {table} ORDER BY n",
            [layer.pk],
        )
        inserted = cursor.rowcount
        cursor.execute(
            f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom) AS e FROM {table}) AS x"
        )
        xmin, ymin, xmax, ymax = cursor.fetchone()
    return inserted, (xmin, ymin, xmax, ymax)
