"""Reading vector files through GDAL (pyogrio), in batches so a large file never sits in memory whole."""

from __future__ import annotations

import codecs
import hashlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import pyogrio.raw
import shapely
from pyogrio.errors import DataLayerError, DataSourceError, FieldError, GeometryError

from ingest import encoding
from layers.errors import IngestError

READ_ERRORS = (DataSourceError, DataLayerError, FieldError, GeometryError, OSError, UnicodeDecodeError)
FORMATS = {
    "GPKG": "GeoPackage",
    "ESRI Shapefile": "Shapefile",
    "GeoJSON": "GeoJSON",
    "GeoJSONSeq": "GeoJSONSeq",
    "LIBKML": "KML",
    "OSM": "OpenStreetMap",
}
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
INTEGER_TYPES = ("OFTInteger", "OFTInteger64")
DEFAULT_BATCH = 20_000
WKT_NAMES = ("wkt", "geom", "geometry", "the_geom", "shape", "геометрия")
X_NAMES = ("lon", "lng", "long", "longitude", "x", "долгота", "даўгата")
Y_NAMES = ("lat", "latitude", "y", "широта", "шырата")
_DELIMITERS = {"TAB": b"\t", "SEMICOLON": b";", "COMMA": b",", "PIPE": b"|"}
SUPPORTED = (
    "Shapefile (.shp or .zip), GeoPackage, GeoJSON/GeoJSONSeq, CSV/TSV (WKT or lon/lat), KML/KMZ, GML, "
    "FlatGeobuf, GPX, DXF, OSM PBF"
)


@dataclass(frozen=True)
class Source:
    path: Path
    layer: str
    driver: str
    crs: str | None
    encoding: str | None  # what the text was read as, for the report
    fields: tuple[str, ...]
    ogr_types: tuple[str, ...]
    feature_count: int
    id_field: str | None  # a GeoJSON string "id" that GDAL turned into a field: the fid
    dataset: str = ""  # what GDAL opens ("CSV:/path/x.txt" for a CSV with another extension)
    read_encoding: str | None = None  # passed to GDAL/pyogrio when it would guess wrong
    open_options: tuple[tuple[str, str], ...] = ()
    bounds: tuple[float, float, float, float] | None = None
    random_read: bool = True
    display_name: str = ""
    geometry_type: str = ""
    fid_column: str = ""
    first_fid: int | None = None  # GeoPackage with ids first_fid … first_fid + feature_count - 1: batches by id range
    ogr_subtypes: tuple[str, ...] = ()  # per field, e.g. OFSTFloat32 for a 4-byte float column

    @property
    def float32_fields(self) -> frozenset[str]:
        """The fields that hold 4-byte floats (GeoPackage FLOAT, PostgreSQL real, FlatGeobuf float)."""
        return frozenset(
            name
            for name, kind, subtype in zip(self.fields, self.ogr_types, self.ogr_subtypes, strict=False)
            if kind == "OFTReal" and subtype == "OFSTFloat32"
        )

    @property
    def format(self) -> str:
        return FORMATS.get(self.driver, self.driver)

    @property
    def name(self) -> str:
        return f"{self.display_name or self.path.name}:{self.layer}"

    @property
    def gdal_options(self) -> dict[str, str]:
        return dict(self.open_options)


@dataclass(frozen=True)
class Batch:
    start: int  # 0-based position of the first row in the file
    fids: np.ndarray
    wkb: np.ndarray
    columns: dict[str, np.ndarray]


def open_source(path: Path, source_layer: str | None, *, encoding: str | None = None, display_name: str | None = None) -> Source:
    """Inspect the file and pick its layer; every problem is an IngestError naming the file."""
    where = display_name or path.name
    dataset, options = _dataset_and_options(path, where)
    read_encoding, encoding_note = _choose_encoding(path, encoding, options)
    layers = _list_layers(dataset, options, where, path)
    layer = _choose_layer(layers, source_layer, where)
    try:
        info = pyogrio.read_info(
            dataset, layer=layer, encoding=read_encoding, force_feature_count=True, force_total_bounds=True, **options
        )
    except READ_ERRORS as exc:
        raise IngestError(f"layer {layer!r} cannot be read ({_first_line(exc).rstrip('.')}).", source=where) from None
    count = int(info["features"])
    if count <= 0:
        raise IngestError(
            f"layer {layer!r} has no features.", source=where, hint="Check that the right file and layer were given."
        )
    fields = tuple(str(f) for f in info["fields"])
    if info["driver"] == "CSV" and not info.get("geometry_type"):
        raise IngestError(
            f"no geometry column found; columns: {', '.join(fields)}.",
            source=where,
            hint=f"Name a WKT column one of {', '.join(WKT_NAMES)}, "
            "or lon/lat columns (lon, lng, longitude, x / lat, latitude, y).",
        )
    id_field = "id" if info["driver"] in ("GeoJSON", "GeoJSONSeq") and "id" in fields else None
    bounds = info.get("total_bounds")
    return Source(
        path=path,
        layer=layer,
        driver=str(info["driver"]),
        crs=info["crs"],
        encoding=encoding_note or info.get("encoding"),
        fields=fields,
        ogr_types=tuple(info["ogr_types"]),
        ogr_subtypes=tuple(info.get("ogr_subtypes", ())),
        feature_count=count,
        id_field=id_field,
        dataset=dataset,
        read_encoding=read_encoding,
        open_options=tuple(sorted(options.items())),
        bounds=tuple(float(b) for b in bounds) if bounds is not None and np.isfinite(bounds).all() else None,  # type: ignore[arg-type]
        random_read=bool(info.get("capabilities", {}).get("fast_set_next_by_index", True)),
        display_name=where,
        geometry_type=str(info.get("geometry_type") or ""),
    )


def _list_layers(dataset: str, options: dict[str, str], where: str, path: Path) -> list[str]:
    try:
        return [str(name) for name, _geometry in pyogrio.list_layers(dataset)] if not options else [_csv_layer(path)]
    except READ_ERRORS as exc:
        raise IngestError(
            f"cannot be read as vector data ({_gdal_reason(exc)}).",
            source=where,
            hint=f"Expected one of: {SUPPORTED}. Check that the file is complete and its extension matches its content.",
        ) from None


def _csv_layer(path: Path) -> str:
    return path.stem


def _dataset_and_options(path: Path, where: str) -> tuple[str, dict[str, str]]:
    """CSV-like text gets explicit open options (delimiter, geometry columns); the rest GDAL detects."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".tsv", ".txt"):
        return str(path), {}
    with path.open("rb") as handle:
        head = handle.read(1 << 16).removeprefix(codecs.BOM_UTF8)
    first_line = head.split(b"\n", 1)[0]
    counts = {name: first_line.count(char) for name, char in _DELIMITERS.items()}
    delimiter = max(counts, key=lambda name: counts[name])
    if counts[delimiter] == 0:
        raise IngestError("the first line has no delimiter (tab, semicolon, comma or |); it is not a table.", source=where)
    options = {
        "SEPARATOR": delimiter,
        "AUTODETECT_TYPE": "YES",
        "KEEP_GEOM_COLUMNS": "NO",
        "GEOM_POSSIBLE_NAMES": ",".join(WKT_NAMES),
        "X_POSSIBLE_NAMES": ",".join(X_NAMES),
        "Y_POSSIBLE_NAMES": ",".join(Y_NAMES),
    }
    return f"CSV:{path}", options


def _choose_encoding(path: Path, forced: str | None, options: dict[str, str]) -> tuple[str | None, str | None]:
    if forced is not None:
        return forced, f"{forced} (--encoding)"[:40]
    if path.suffix.lower() == ".shp":
        read_encoding, note = encoding.shapefile_encoding(path)
        return read_encoding, note
    if options:  # CSV
        return encoding.text_file_encoding(path)
    return None, None


def _choose_layer(layers: list[str], wanted: str | None, where: str) -> str:
    if not layers:
        raise IngestError("contains no vector layers.", source=where)
    if wanted is not None:
        if wanted not in layers:
            raise IngestError(
                f"has no layer {wanted!r}; layers: {', '.join(layers)}.",
                source=where,
                hint="Pass one of them with --source-layer.",
            )
        return wanted
    if len(layers) > 1:
        raise IngestError(
            f"has {len(layers)} layers: {', '.join(layers)}.", source=where, hint="Choose one with --source-layer NAME."
        )
    return layers[0]


def _gdal_reason(exc: BaseException) -> str:
    """GDAL's message without the temporary path and the generic advice."""
    text = _first_line(exc).split("; It might help")[0].rstrip(".")
    return text.replace("' not recognized", "' is not recognized").split("/")[-1].lstrip("'")


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def batch_starts(source: Source, batch_size: int = DEFAULT_BATCH) -> range:
    """Where each batch of the source starts (read_batch): one batch for a source GDAL can only read from the start."""
    if not source.random_read:  # GDAL would re-read the file from the start for every batch
        return range(0, max(source.feature_count, 0))[:1]
    return range(0, max(source.feature_count, 0), batch_size)


def with_id_ranges(source: Source) -> Source:
    """The source, read by id ranges when it is a GeoPackage whose ids run without gaps.

    GDAL skips to a GeoPackage row by an SQL OFFSET, stepping over every row before it: for a batch
    deep into a 1M-row file that costs as much as reading the batch. A range of the integer primary
    key is an index seek. (~0.3 s to find out: for large files only.)
    """
    if source.driver != "GPKG" or not source.random_read:
        return source
    try:
        info = pyogrio.read_info(source.dataset or source.path, layer=source.layer)
        column = str(info.get("fid_column") or "")
        if not column:
            return source
        _meta, _fids, _wkb, (low, high) = pyogrio.raw.read(
            source.dataset or source.path,
            sql=f'SELECT min("{_sql_name(column)}") AS low, max("{_sql_name(column)}") AS high FROM "{_sql_name(source.layer)}"',
            read_geometry=False,
        )
    except READ_ERRORS:
        return source
    if len(low) != 1 or int(high[0]) - int(low[0]) + 1 != source.feature_count:
        return source
    return replace(source, fid_column=column, first_fid=int(low[0]))


def _sql_name(name: str) -> str:
    return name.replace('"', '""')


def read_batch(source: Source, start: int, batch_size: int = DEFAULT_BATCH) -> Batch | None:
    """The batch_size rows from position `start` on (all the rows for a source without random reads)."""
    if not source.random_read:
        batch_size = max(batch_size, source.feature_count)
    position: dict[str, object] = {"skip_features": start, "max_features": batch_size}
    if source.first_fid is not None:
        low, column = source.first_fid + start, _sql_name(source.fid_column)
        position = {"where": f'"{column}" >= {low} AND "{column}" < {low + batch_size}'}
    try:
        _meta, fids, wkb, data = _read_layer(source, **position, return_fids=True, datetime_as_string=True)
    except READ_ERRORS as exc:
        raise IngestError(
            f"reading features {start + 1}–{start + batch_size} failed ({_first_line(exc).rstrip('.')}).", source=source.name
        ) from None
    if len(wkb) == 0:
        return None
    fids = fids if fids is not None else np.arange(start, start + len(wkb))
    return Batch(start=start, fids=fids, wkb=wkb, columns=dict(zip(source.fields, data, strict=True)))


def _read_layer(source: Source, **what: Any) -> tuple[Any, Any, Any, Any]:
    """pyogrio's raw read of the source's layer, 2D, with the encoding and GDAL options it was opened with."""
    return pyogrio.raw.read(  # type: ignore[no-any-return]
        source.dataset or source.path,
        layer=source.layer,
        encoding=source.read_encoding,
        force_2d=True,
        **what,
        **source.gdal_options,
    )


def typical_bounds(source: Source, sample: int = 5000) -> tuple[float, float, float, float] | None:
    """Bounds of the middle 96% of the first features' coordinates: stray 0,0 rows do not skew CRS judgement."""
    try:
        _meta, _fids, wkb, _data = _read_layer(source, columns=[], max_features=sample)
    except READ_ERRORS:
        return source.bounds
    coords = shapely.get_coordinates(shapely.from_wkb(wkb, on_invalid="ignore"))
    coords = coords[np.isfinite(coords).all(axis=1) & (np.abs(coords) < 1e10).all(axis=1)]  # wild values: refused later
    if not len(coords):
        return None
    low, high = np.percentile(coords, [2, 98], axis=0)
    return float(low[0]), float(low[1]), float(high[0]), float(high[1])


def source_files(path: Path) -> list[Path]:
    """The file and, for a shapefile, its sidecars (.shx .dbf .prj .cpg) — all of them define the data."""
    if path.suffix.lower() != ".shp":
        return [path]
    siblings = {p.suffix.lower(): p for p in path.parent.glob(f"{_glob_escape(path.stem)}.*") if p.is_file()}
    return [siblings[ext] for ext in SHAPEFILE_PARTS if ext in siblings]


def _glob_escape(text: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)


def sha256_of(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.suffix.lower().encode())  # renaming the file does not make it new
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()
