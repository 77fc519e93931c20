"""Importing a vector file into a layer: read in batches → stage with COPY → swap in one transaction.

The old features and version of the layer stay exactly as they were unless the whole
import succeeds; every attempt, failed or not, leaves an ImportRun that says what happened.
"""

from __future__ import annotations

import getpass
import json
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from django.contrib.gis.geos import Polygon
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from psycopg import Error as PsycopgError
from psycopg.copy import QueuedLibpqWriter
from pyproj import CRS

from config.loader import Config, ThemeConfig
from ingest import parallel, safety
from ingest.columnar import encode_rows, map_columns
from ingest.crs import (
    BELARUS_BBOX,
    Bounds,
    candidates_hint,
    crs_label,
    parse_crs_option,
    refuse_contradicting_crs,
    resolve_source_crs,
    to_wgs84,
)
from ingest.encoding import parse_encoding_option
from ingest.geometry import GeometryRules, prepare
from ingest.mapping import COERCE, INTEGER_OGR_TYPES, PropertyMapper, RowTransform, json_columns, rows_from_lists
from ingest.readers import (
    DEFAULT_BATCH,
    Source,
    batch_starts,
    open_source,
    read_batch,
    sha256_of,
    source_files,
    typical_bounds,
    with_id_ranges,
)
from ingest.report import Counts, WarningLog
from ingest.selectors import last_succeeded_import
from layers import partitions
from layers.errors import GeoportalError, IngestError, InvalidParameter
from layers.fields import json_type_of, merge_field_type
from layers.models import NATIONAL, ChangeOp, City, FeatureChange, ImportRun, ImportStatus, Layer, Visibility
from layers.search import LABEL_INPUTS, search_entries, search_index_by_fid, search_index_layer
from layers.selectors import layer_find
from layers.services import layer_ensure, layer_time_extent
from layers.sql import quote_ident
from layers.tasks import enqueue_spatial_order

LAYER_SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_]*$")
MODES = ("replace", "append", "upsert", "sync")
Progress = Callable[[int, int], None]  # (features read so far, features in the source)


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
    spatial_order_queued: bool = False  # the worker is to store the layer's new partition in spatial order

    @property
    def noop(self) -> bool:
        return self.run.status == ImportStatus.NOOP


@dataclass
class _Staged:
    table: str
    counts: Counts
    fields: dict[str, str]
    labels: list[bytes]  # search index entries by fid (layers.search.search_index_by_fid)


@dataclass(frozen=True)
class ReadOptions:
    """How to read the source (None = detect / take what the file declares)."""

    crs: str | None = None
    encoding: str | None = None
    source_layer: str | None = None
    skip_other_geometries: bool = False
    display_name: str | None = None  # the name the user knows the file by (an upload's original name)


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
    mode: str = "replace",
    key: str | None = None,
    encoding: str | None = None,
    skip_other_geometries: bool = False,
    progress: Progress | None = None,
    display_name: str | None = None,
    user_id: int | None = None,
    on_run: Callable[[ImportRun], Any] | None = None,
) -> IngestResult:
    """Load the file at `path` into layer (city, layer or theme): replace, append, upsert or sync its features."""
    theme_config = _theme(config, theme)
    city_row = _city(city)
    slug = _layer_slug(layer or theme_config.slug)
    _check_mode(mode, key)
    override = parse_crs_option(crs, local_crs=city_row.local_crs if city_row else None) if crs else None
    read = ReadOptions(
        crs=crs,
        encoding=parse_encoding_option(encoding) if encoding else None,
        source_layer=source_layer,
        skip_other_geometries=skip_other_geometries,
        display_name=display_name or path.name,
    )
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
        source_name=read.display_name or path.name,
        actor=actor or _os_user(),
        user_id=user_id,
        mode=mode,
        layer_version=existing.version if existing else None,
    )
    if on_run is not None:
        on_run(run)
    warnings = WarningLog()
    plan = _Plan(
        run=run,
        city=city_row,
        slug=slug,
        theme=theme_config,
        options=options,
        transform=transform,
        warnings=warnings,
        batch_size=batch_size,
        started=started,
        mode=mode,
        key=key,
        progress=progress,
    )
    try:
        with ExitStack() as stack:
            source, source_crs = _open(plan, path, read, override, stack)
            previous = last_succeeded_import(layer=existing) if existing is not None and not force else None
            if previous is not None and (previous.sha256, previous.source_name) == (run.sha256, run.source_name):
                return _finish_noop(run, previous, theme_config, options, started)
            with transaction.atomic():
                return _write(plan, source, source_crs)
    except GeoportalError as exc:
        _finish_failed(run, exc, warnings, started)
        raise
    except (DatabaseError, PsycopgError) as exc:
        error = IngestError(f"the database refused the import: {str(exc).strip().splitlines()[0]}.", source=path.name)
        _finish_failed(run, error, warnings, started)
        raise error from exc


@dataclass
class _Plan:
    """Everything one import needs besides the source."""

    run: ImportRun
    city: City | None
    slug: str
    theme: ThemeConfig
    options: LayerOptions
    transform: RowTransform | None
    warnings: WarningLog
    batch_size: int
    started: float
    mode: str = "replace"
    key: str | None = None
    progress: Progress | None = None
    rules: GeometryRules = field(default_factory=GeometryRules)

    @property
    def area(self) -> Bounds:
        return tuple(self.city.extent.extent) if self.city is not None else BELARUS_BBOX  # type: ignore[return-value]

    @property
    def area_name(self) -> str:
        return self.city.name.get("en", self.city.slug) if self.city is not None else "Belarus"


def _check_mode(mode: str, key: str | None) -> None:
    if mode not in MODES:
        raise InvalidParameter("mode", f"--mode {mode!r} is not one of {', '.join(MODES)}.")
    if mode in ("upsert", "sync") and not key:
        raise InvalidParameter(
            "key", f"--mode {mode} needs --key FIELD: the source field that identifies a feature across imports."
        )


def _open(plan: _Plan, path: Path, read: ReadOptions, override: CRS | None, stack: ExitStack) -> tuple[Source, CRS]:
    """Safety checks, then the source with its CRS judged against the data's own coordinates."""
    run = plan.run
    shown = read.display_name or path.name
    safety.refuse_empty(path)
    run.sha256 = sha256_of(source_files(path))
    data_path = path
    if safety.is_zip(path):
        data_path = safety.data_file_in(stack.enter_context(safety.unpacked(path)), path)
        shown = f"{shown}/{data_path.name}"
    safety.refuse_xml_entities(data_path, name=shown)
    source = open_source(data_path, read.source_layer, encoding=read.encoding, display_name=shown)
    if plan.key is not None and plan.key not in source.fields:
        raise IngestError(
            f"the key field {plan.key!r} does not exist; fields: {', '.join(source.fields)}.",
            source=source.name,
            field=plan.key,
            hint="Pass --key with one of these names (exact spelling and case).",
        )
    local = plan.city.local_crs if plan.city else []
    bounds = typical_bounds(source)
    srids = [int(e["srid"]) for e in local]

    def hint() -> str:  # judging every candidate CRS costs ~0.4 s: only when a message needs it
        return candidates_hint(bounds, target=plan.area, target_name=plan.area_name, local_srids=srids)

    source_crs, crs_warning = resolve_source_crs(source.crs, override, source=source.name, candidates_hint=hint)
    if crs_warning:
        plan.warnings.add("crs-override", crs_warning)
    refuse_contradicting_crs(source_crs, bounds, source=source.name, hint_candidates=hint)
    if source.geometry_type.endswith(("Z", "M", "ZM")) or " Z" in source.geometry_type:
        plan.warnings.add("zm-dropped", f"Z/M values dropped ({source.geometry_type} stored as 2D)")
    plan.rules = GeometryRules(source=source.name, skip_other_types=read.skip_other_geometries, area=plan.area)
    _describe_source(run, source, source_crs)
    return source, source_crs


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


def _write(plan: _Plan, source: Source, source_crs: CRS) -> IngestResult:
    """Runs inside one transaction: stage every row, then apply the mode to the layer's features."""
    run, theme, options = plan.run, plan.theme, plan.options
    # GDAL's own feature ids are unique: a plain replace can COPY straight into the feature table
    direct = plan.mode == "replace" and plan.key is None and source.id_field is None
    layer = None
    partition = None  # a large file: a table of its own, indexed in bulk, swapped in at the end
    if direct:
        layer = _locked(_ensure_layer(plan.city, plan.slug, theme, options))
        if partitions.wanted(source.feature_count):
            partition = partitions.create(layer_id=layer.pk, suffix=f"r{run.pk}")
        else:
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM layers_feature WHERE layer_id = %s", [layer.pk])
    staged = _stage(plan, source, source_crs, layer_id=layer.pk if layer else None, into=partition)
    if staged.counts.written == 0:
        raise IngestError(
            f"none of the {staged.counts.read} features has a usable geometry.",
            source=source.name,
            hint="See the warnings of the import run for why each was skipped.",
        )
    if layer is None:
        _reject_duplicate_fids(staged.table, source, plan.key)
        layer = _locked(_ensure_layer(plan.city, plan.slug, theme, options))
    version = layer.version + 1
    single_precision = _writes_single_precision(source, plan)
    if direct:
        FeatureChange.objects.create(layer=layer, version=version, op=ChangeOp.RESET)
        changes = _Changes(inserted=staged.counts.written)
        fields = staged.fields
    elif plan.mode == "replace":
        changes = _Changes(inserted=_swap_features(layer, staged.table, version))
        fields = staged.fields
    else:
        changes = _merge_features(layer, staged.table, version, plan.mode)
        fields = {**layer.fields, **staged.fields}
        single_precision = single_precision and layer.single_precision
    if changes.total or plan.mode == "replace":
        if partition is not None:
            partitions.build_indexes(partition)
        layer.single_precision = single_precision
        _update_layer(layer, version, fields, theme, run, source, options, table=partition or "layers_feature")
        # same transaction: search never finds features that are gone
        if direct:  # the staged rows are the whole layer: its search entries were computed while reading
            search_index_by_fid(layer=layer, table=partition or "layers_feature", entries=staged.labels)
        else:
            search_index_layer(layer=layer)
        # stored now, from where the features are: collection documents never scan the layer
        layer_time_extent(layer=layer, theme=theme, table=partition or "layers_feature")
        if partition is not None:
            partitions.attach(table=partition, layer_id=layer.pk)  # last: the only step that locks readers out
            _queue_spatial_order(layer.pk, version)
    else:
        plan.warnings.add("no-change", "no feature was inserted, updated or deleted: the layer version is unchanged")
    return _finish_succeeded(plan, layer, staged.counts, changes, spatial_order_queued=partition is not None)


def _writes_single_precision(source: Source, plan: _Plan) -> bool:
    """Whether every non-integral number the import writes is a 4-byte float of the source.

    Then its tiles may send them as MVT floats (`Layer.single_precision`). Other 8-byte float columns,
    a transform, or a theme number attribute read from text (coerced) can write numbers a 4-byte
    float does not hold: no. Integer columns write integers, which tiles encode as integers anyway.
    """
    float32 = source.float32_fields
    if plan.transform is not None or not float32:
        return False
    kinds = dict(zip(source.fields, source.ogr_types, strict=True))
    if any(kind == "OFTReal" and name not in float32 for name, kind in kinds.items()):
        return False
    exact = {*float32, *(name for name, kind in kinds.items() if kind in INTEGER_OGR_TYPES)}
    for attribute, candidates in PropertyMapper(plan.theme, WarningLog()).plan(source.fields):
        if attribute.type == "number" and not set(candidates) <= exact:
            return False
    return True


def _queue_spatial_order(layer_id: int, version: int) -> None:
    """Have the worker store the new partition in spatial order once the import committed.

    Not in the import: the rewrite would make every large import slower, while the layer reads fine
    meanwhile, only from more pages. robust: a queue that fails after the commit must not turn a
    committed import into a failed run (the error is logged; `geoportal layer optimize` does it by hand).
    """
    transaction.on_commit(partial(enqueue_spatial_order, layer_id=layer_id, version=version), robust=True)


def _finish_succeeded(
    plan: _Plan, layer: Layer, counts: Counts, changes: _Changes, *, spatial_order_queued: bool = False
) -> IngestResult:
    run = plan.run
    run.layer = layer
    run.layer_version = layer.version
    run.status = ImportStatus.SUCCEEDED
    run.read, run.repaired, run.skipped = counts.read, counts.repaired, counts.skipped
    run.inserted, run.updated, run.deleted = changes.inserted, changes.updated, changes.deleted
    run.warnings = plan.warnings.lines()
    _stamp(run, plan.started)
    run.save()
    return IngestResult(
        run=run, layer=layer, counts=counts, warnings=list(run.warnings), spatial_order_queued=spatial_order_queued
    )


def _locked(layer: Layer) -> Layer:
    return Layer.objects.select_for_update().get(pk=layer.pk)


def _update_layer(
    layer: Layer,
    version: int,
    fields: dict[str, str],
    theme: ThemeConfig,
    run: ImportRun,
    source: Source,
    options: LayerOptions,
    *,
    table: str = "layers_feature",
) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n, ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
            f"FROM (SELECT count(*) AS n, ST_Extent(geom) AS e FROM {table} WHERE layer_id = %s) AS x",
            [layer.pk],
        )
        layer.feature_count, xmin, ymin, xmax, ymax = cursor.fetchone()
    layer.version = version
    layer.extent = Polygon.from_bbox((xmin, ymin, xmax, ymax)) if xmin is not None else None
    layer.fields = dict(sorted(fields.items()))
    layer.geometry_type = theme.geometry_type
    layer.lineage = (
        f"{run.format} {source.display_name or source.path.name} (layer {source.layer!r}, {run.source_crs}, "
        f"mode {run.mode}), imported {timezone.now():%Y-%m-%d} by {run.actor}"
    )
    if options.abstract is not None:
        layer.abstract = options.abstract
    layer.save()


@dataclass
class _Changes:
    inserted: int = 0
    updated: int = 0
    deleted: int = 0

    @property
    def total(self) -> int:
        return self.inserted + self.updated + self.deleted


def _stage(plan: _Plan, source: Source, source_crs: CRS, *, layer_id: int | None = None, into: str | None = None) -> _Staged:
    """COPY the prepared rows into a temporary table that disappears with the transaction,
    or (layer_id given) straight into the layer's rows of the feature table (or of `into`, its new partition)."""
    table = quote_ident(f"ingest_staging_{plan.run.pk}")
    if layer_id is None:
        target = f"{table} (n, fid, geom, properties)"
        line = _CopyLine(head=None, tail="\n")  # head: the feature number
    elif into is not None:  # the new partition's defaults fill layer_id and the times: less for the server to parse
        target = f"{into} (fid, geom, properties)"
        line = _CopyLine(head="", tail="\n")
    else:
        target = "layers_feature (layer_id, fid, geom, properties, created_at, updated_at)"
        now = timezone.now().isoformat()
        line = _CopyLine(head=f"{layer_id}\t", tail=f"\t{now}\t{now}\n")
    counts = Counts()
    fields: dict[str, str] = {}
    labels: list[bytes] = []
    large = source.feature_count >= parallel.PARALLEL_FROM
    if large:
        source = with_id_ranges(source)
    job = partial(_prepare_batch, source=source, reproject=to_wgs84(source_crs), plan=plan, line=line)
    connection.ensure_connection()
    pg = connection.connection
    with pg.cursor() as cursor:
        if layer_id is None:
            cursor.execute(f"CREATE TEMP TABLE {table} (n integer, fid text, geom geometry, properties jsonb) ON COMMIT DROP")
        # One COPY for the whole file, written from a queue by psycopg's writer thread: the server parses
        # batch k while batch k+1 is prepared (by worker processes for a large file: ingest/parallel.py).
        with (
            parallel.in_order(job, batch_starts(source, plan.batch_size), parallel=large) as prepared,
            _responsive_threads(),
            cursor.copy(f"COPY {target} FROM STDIN", writer=QueuedLibpqWriter(cursor)) as copy,
        ):
            for part in prepared:
                copy.write(part.data)
                counts.add(part.counts)
                for key, kind in part.fields.items():
                    fields[key] = merge_field_type(fields.get(key), kind)
                plan.warnings.merge(part.warnings)
                if part.label_data:
                    labels.append(part.label_data)
                if plan.progress is not None:
                    plan.progress(counts.read, source.feature_count)
        if plan.mode != "replace" and layer_id is None:
            cursor.execute(f"CREATE INDEX ON {table} (fid)")
            cursor.execute(f"ANALYZE {table}")
    for attribute in plan.theme.attributes:  # the theme's type wins over what the values looked like
        if attribute.name in fields:
            fields[attribute.name] = attribute.type
    return _Staged(table=table, counts=counts, fields=dict(sorted(fields.items())), labels=labels)


@contextmanager
def _responsive_threads(interval: float = 0.0005) -> Iterator[None]:
    """A shorter GIL switch interval while the writer thread ships COPY data.

    The writer needs the GIL for a moment per 128 KiB chunk, and the main thread, busy preparing
    the next batch, gives it up only every 5 ms by default: the writer starved (a third of a 1M-row
    import was spent waiting on its queue). 0.5 ms lets it keep the server fed.
    """
    previous = sys.getswitchinterval()
    sys.setswitchinterval(interval)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


@dataclass
class _Prepared:
    """One batch as COPY bytes, with what preparing it counted, found (field types) and warned about."""

    data: bytes = b""
    counts: Counts = field(default_factory=Counts)
    fields: dict[str, str] = field(default_factory=dict)
    warnings: WarningLog = field(default_factory=WarningLog)
    labels: list[str] = field(default_factory=list)  # search index rows: COPY lines fid \t key \t label
    label_data: bytes = b""  # the labels, joined and encoded to cross from a worker process


def _prepare_batch(start: int, *, source: Source, reproject: Any, plan: _Plan, line: _CopyLine) -> _Prepared:
    """Read the batch at `start` and make its COPY lines (in a worker process for a large file)."""
    out = _Prepared()
    batch = read_batch(source, start, plan.batch_size)
    if batch is not None:
        mapper = PropertyMapper(plan.theme, out.warnings)
        out.data = "".join(_batch_rows(batch, source, reproject, plan, mapper, out, line)).encode()
        out.label_data, out.labels = "".join(out.labels).encode(), []
    return out


def _label_lines(fid: str, properties: dict[str, Any]) -> Iterator[str]:
    for key, label in search_entries(properties):
        yield f"{_copy_text(fid)}\t{_copy_text(key)}\t{_copy_text(label)}\n"


def _batch_rows(
    batch: Any,
    source: Source,
    reproject: Any,
    plan: _Plan,
    mapper: PropertyMapper,
    out: _Prepared,
    line: _CopyLine,
) -> Iterator[str]:
    """COPY text lines (n, fid, EWKB hex, JSON) of the batch's usable rows."""
    first = batch.start + 1
    warnings, transform, counts, fields = out.warnings, plan.transform, out.counts, out.fields
    geometries = prepare(
        batch.wkb, first_feature=first, reproject=reproject, target=plan.theme.geometry_type, warnings=warnings, rules=plan.rules
    )
    lists = json_columns(batch.columns, source.ogr_types, first_feature=first, warnings=warnings)
    length = len(batch.wkb)
    counts.read += length
    counts.repaired += geometries.repaired
    counts.skipped += geometries.skipped
    if transform is None and plan.key is None and source.id_field is None:
        mapped = map_columns(mapper, lists)
        if mapped is not None:
            yield from _columnar_rows(batch, geometries.ewkb_hex, mapped, plan, out, line)
            return
    props_rows = rows_from_lists(lists, length)
    seen: set[tuple[str, type]] = set()
    row_fids = batch.fids.tolist()
    for index, (ewkb, props) in enumerate(zip(geometries.ewkb_hex, props_rows, strict=True)):
        if ewkb is None:
            continue
        number = first + index
        fid = _fid_of(plan, source, props, str(row_fids[index]), number)
        if transform is not None:
            props = _apply(transform, props, number, source)
        props = mapper.map(props, number)
        seen.update(zip(props, map(type, props.values()), strict=True))  # field types judged once per batch
        counts.written += 1
        document = _JSON.encode(props)
        out.labels.extend(_label_lines(fid, props))
        head = f"{number}\t" if line.head is None else line.head
        yield f"{head}{_copy_text(fid)}\t{ewkb}\t{document.replace(BACKSLASH, DOUBLE_BACKSLASH)}{line.tail}"
    for key, kind in seen:
        if kind is not type(None):
            fields[key] = merge_field_type(fields.get(key), json_type_of(kind))


def _columnar_rows(
    batch: Any,
    ewkb_hex: list[str | None],
    mapped: dict[str, list[Any]],
    plan: _Plan,
    out: _Prepared,
    line: _CopyLine,
) -> Iterator[str]:
    """The same COPY lines as the per-row loop of _batch_rows, for a batch map_columns could map whole."""
    counts, fields = out.counts, out.fields
    documents, kinds_of = encode_rows(mapped, len(ewkb_hex), _JSON)
    prefix = f"{plan.run.pk}." if plan.mode == "append" else ""
    first = batch.start + 1
    label_columns, labelled = _labelled(mapped)
    for index, (ewkb, document, row_fid) in enumerate(zip(ewkb_hex, documents, batch.fids.tolist(), strict=True)):
        if ewkb is None:
            continue
        counts.written += 1
        if index in labelled:
            out.labels.extend(_label_lines(prefix + str(row_fid), {key: values[index] for key, values in label_columns.items()}))
        head = f"{first + index}\t" if line.head is None else line.head
        # GDAL's feature ids are integers: nothing in them to escape for COPY
        yield f"{head}{prefix}{row_fid}\t{ewkb}\t{document.replace(BACKSLASH, DOUBLE_BACKSLASH)}{line.tail}"
    written = [ewkb is not None for ewkb in ewkb_hex]
    every_row_written = all(written)  # the usual case: the types encode_rows saw are those of the written rows
    for key, values in mapped.items():  # types of the written rows only, as the per-row path sees them
        kinds = kinds_of[key] if every_row_written else {type(v) for v, ok in zip(values, written, strict=True) if ok}
        for kind in kinds - {type(None)}:
            fields[key] = merge_field_type(fields.get(key), json_type_of(kind))


def _labelled(mapped: dict[str, list[Any]]) -> tuple[dict[str, list[Any]], set[int]]:
    """The label columns of a mapped batch and the rows with a value in one: most buildings have no
    name or address, and only those rows are looked at for search index entries."""
    columns = {key: mapped[key] for key in LABEL_INPUTS if key in mapped}
    return columns, {index for values in columns.values() for index, value in enumerate(values) if value is not None}


@dataclass(frozen=True)
class _CopyLine:
    """A COPY text line is `head fid \t EWKB hex \t JSON tail`; head None = the feature number and a tab."""

    head: str | None
    tail: str


BACKSLASH, DOUBLE_BACKSLASH = "\\", "\\\\"
# One encoder for the whole import: json.dumps with options builds a new one per call.
_JSON = json.JSONEncoder(ensure_ascii=False, allow_nan=False, default=str)


def _copy_text(value: str) -> str:
    """COPY text format escapes (JSON output needs only the backslash doubled: it has no raw control characters)."""
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _fid_of(plan: _Plan, source: Source, props: dict[str, Any], row_fid: str, number: int) -> str:
    """--key FIELD's value; else the file's own id; appends without a key get ids that cannot collide."""
    if plan.key is not None:
        value = props.get(plan.key)
        if value is None or value == "":
            raise IngestError(
                f"the key field {plan.key!r} is empty.",
                source=source.name,
                feature=number,
                field=plan.key,
                hint="Every feature needs a key value in upsert/sync mode.",
            )
        return COERCE["string"](value)  # a key read as 12.0 is the feature "12", as a string attribute stores it
    fid = row_fid
    if source.id_field is not None:
        own_id = props.pop(source.id_field, None)
        fid = str(own_id) if own_id is not None else fid
    return f"{plan.run.pk}.{fid}" if plan.mode == "append" else fid


def _apply(transform: RowTransform, props: dict[str, Any], number: int, source: Source) -> dict[str, Any]:
    try:
        return transform(props)
    except (ValueError, TypeError, KeyError) as exc:
        raise IngestError(f"the row transform failed: {exc}.", source=source.name, feature=number) from None


def _reject_duplicate_fids(table: str, source: Source, key: str | None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT fid, min(n), count(*) FROM {table} GROUP BY fid HAVING count(*) > 1 ORDER BY min(n) LIMIT 5")
        duplicates = cursor.fetchall()
    if not duplicates:
        return
    listed = ", ".join(f"{fid!r} ×{count} (first at feature {first})" for fid, first, count in duplicates)
    if key is not None:
        raise IngestError(
            f"the key field {key!r} has duplicate values: {listed}.",
            source=source.name,
            field=key,
            feature=duplicates[0][1],
            hint="A key must identify one feature; choose another --key or fix the repeated values.",
        )
    raise IngestError(
        f"feature ids are not unique: {listed}.",
        source=source.name,
        hint="Each feature needs its own id; for GeoJSON remove or fix the repeated 'id' members.",
    )


_RECORD = "INSERT INTO layers_featurechange (layer_id, version, op, fid, at) SELECT %s, %s, '{op}', fid, now() FROM changed"


def _swap_features(layer: Layer, table: str, version: int) -> int:
    """Delete the layer's features and insert the staged ones (one 'reset' change); returns the count."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM layers_feature WHERE layer_id = %s", [layer.pk])
        cursor.execute(
            f"INSERT INTO layers_feature (layer_id, fid, geom, properties, created_at, updated_at) "
            f"SELECT %s, fid, ST_SetSRID(geom, 4326), properties, now(), now() FROM {table} ORDER BY n",
            [layer.pk],
        )
        inserted = cursor.rowcount
    FeatureChange.objects.create(layer=layer, version=version, op=ChangeOp.RESET)
    return inserted


def _merge_features(layer: Layer, table: str, version: int, mode: str) -> _Changes:
    """append / upsert / sync in three statements, each recording one change row per feature it touched."""
    changes = _Changes()
    with connection.cursor() as cursor:
        if mode == "append":
            cursor.execute(
                f"SELECT t.fid FROM {table} t JOIN layers_feature f ON f.layer_id = %s AND f.fid = t.fid LIMIT 5", [layer.pk]
            )
            clashes = [fid for (fid,) in cursor.fetchall()]
            if clashes:
                raise IngestError(
                    f"ids already in layer {layer.collection_id!r}: {', '.join(map(repr, clashes))}.",
                    source=table,
                    hint="Use --mode upsert --key FIELD to update existing features.",
                )
        if mode in ("upsert", "sync"):
            cursor.execute(
                f"WITH changed AS (UPDATE layers_feature f SET geom = ST_SetSRID(t.geom, 4326), properties = t.properties, "
                f"updated_at = now() FROM {table} t WHERE f.layer_id = %s AND f.fid = t.fid "
                f"AND (NOT ST_OrderingEquals(f.geom, ST_SetSRID(t.geom, 4326)) OR f.properties <> t.properties) "
                f"RETURNING f.fid) " + _RECORD.format(op=ChangeOp.UPDATE),
                [layer.pk, layer.pk, version],
            )
            changes.updated = cursor.rowcount
        cursor.execute(
            f"WITH changed AS (INSERT INTO layers_feature (layer_id, fid, geom, properties, created_at, updated_at) "
            f"SELECT %s, t.fid, ST_SetSRID(t.geom, 4326), t.properties, now(), now() FROM {table} t "
            f"WHERE NOT EXISTS (SELECT 1 FROM layers_feature f WHERE f.layer_id = %s AND f.fid = t.fid) ORDER BY t.n "
            f"RETURNING fid) " + _RECORD.format(op=ChangeOp.INSERT),
            [layer.pk, layer.pk, layer.pk, version],
        )
        changes.inserted = cursor.rowcount
        if mode == "sync":
            cursor.execute(
                f"WITH changed AS (DELETE FROM layers_feature f WHERE f.layer_id = %s "
                f"AND NOT EXISTS (SELECT 1 FROM {table} t WHERE t.fid = f.fid) RETURNING f.fid) "
                + _RECORD.format(op=ChangeOp.DELETE),
                [layer.pk, layer.pk, version],
            )
            changes.deleted = cursor.rowcount
    return changes
