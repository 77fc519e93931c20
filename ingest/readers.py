"""Reading vector files through GDAL (pyogrio), in batches so a large file never sits in memory whole."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyogrio
import pyogrio.raw
from pyogrio.errors import DataLayerError, DataSourceError, FieldError, GeometryError

from layers.errors import IngestError

READ_ERRORS = (DataSourceError, DataLayerError, FieldError, GeometryError, OSError, UnicodeDecodeError)
FORMATS = {"GPKG": "GeoPackage", "ESRI Shapefile": "Shapefile", "GeoJSON": "GeoJSON", "GeoJSONSeq": "GeoJSON"}
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
INTEGER_TYPES = ("OFTInteger", "OFTInteger64")
DEFAULT_BATCH = 20_000


@dataclass(frozen=True)
class Source:
    path: Path
    layer: str
    driver: str
    crs: str | None
    encoding: str | None
    fields: tuple[str, ...]
    ogr_types: tuple[str, ...]
    feature_count: int
    id_field: str | None  # a GeoJSON string "id" that GDAL turned into a field: the fid

    @property
    def format(self) -> str:
        return FORMATS.get(self.driver, self.driver)

    @property
    def name(self) -> str:
        return f"{self.path.name}:{self.layer}"


@dataclass(frozen=True)
class Batch:
    start: int  # 0-based position of the first row in the file
    fids: np.ndarray
    wkb: np.ndarray
    columns: dict[str, np.ndarray]


def open_source(path: Path, source_layer: str | None) -> Source:
    """Inspect the file and pick its layer; every problem is an IngestError naming the file."""
    where = str(path)
    try:
        layers = [str(name) for name, _geometry in pyogrio.list_layers(path)]
    except READ_ERRORS as exc:
        raise IngestError(
            f"cannot be read as a vector file ({_first_line(exc).rstrip('.')}).",
            source=where,
            hint="Pass a GeoPackage (.gpkg), GeoJSON (.geojson) or Shapefile (.shp).",
        ) from None
    layer = _choose_layer(layers, source_layer, where)
    try:
        info = pyogrio.read_info(path, layer=layer, force_feature_count=True)
    except READ_ERRORS as exc:
        raise IngestError(f"layer {layer!r} cannot be read ({_first_line(exc).rstrip('.')}).", source=where) from None
    count = int(info["features"])
    if count <= 0:
        raise IngestError(
            f"layer {layer!r} has no features.", source=where, hint="Check that the right file and layer were given."
        )
    fields = tuple(str(f) for f in info["fields"])
    id_field = "id" if info["driver"] in ("GeoJSON", "GeoJSONSeq") and "id" in fields else None
    return Source(
        path=path,
        layer=layer,
        driver=str(info["driver"]),
        crs=info["crs"],
        encoding=info.get("encoding"),
        fields=fields,
        ogr_types=tuple(info["ogr_types"]),
        feature_count=count,
        id_field=id_field,
    )


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


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def iter_batches(source: Source, batch_size: int = DEFAULT_BATCH) -> Iterator[Batch]:
    """Rows in file order, batch_size at a time (GDAL seeks with SetNextByIndex between batches)."""
    start = 0
    while start < source.feature_count:
        try:
            _meta, fids, wkb, data = pyogrio.raw.read(
                source.path,
                layer=source.layer,
                skip_features=start,
                max_features=batch_size,
                return_fids=True,
                force_2d=True,
                datetime_as_string=True,
            )
        except READ_ERRORS as exc:
            raise IngestError(
                f"reading features {start + 1}–{start + batch_size} failed ({_first_line(exc).rstrip('.')}).", source=source.name
            ) from None
        if len(wkb) == 0:
            return
        fids = fids if fids is not None else np.arange(start, start + len(wkb))
        yield Batch(start=start, fids=fids, wkb=wkb, columns=dict(zip(source.fields, data, strict=True)))
        start += len(wkb)


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
