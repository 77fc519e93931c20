"""Downloads of one layer within a box: GeoJSON, GeoPackage (pyogrio) or CSV with WKT.

The caller has already resolved the layer through `layers.selectors`
(so access rules apply) and validated the box. Each format reads at most
`max_features + 1` rows in one query ordered by Feature.id; one row too many
means the box holds more than the cap and the export is refused with a 400
that says how many are allowed and what to do, instead of a huge download.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import connection
from pyogrio.raw import write as ogr_write

from layers.errors import InvalidParameter
from layers.features import BBox, bbox_condition
from layers.models import Layer

FORMATS = ("geojson", "gpkg", "csv")
_MEDIA_TYPES = {
    "geojson": "application/geo+json",
    "gpkg": "application/geopackage+sqlite3",
    "csv": "text/csv; charset=utf-8",
}


@dataclass(frozen=True)
class ExportFile:
    content: bytes
    media_type: str
    filename: str
    feature_count: int


def export_layer(*, layer: Layer, bbox: BBox | None, fmt: str, max_features: int) -> ExportFile:
    if fmt not in FORMATS:
        raise InvalidParameter("format", f"Unknown export format {fmt!r}.", hint=f"Allowed values: {', '.join(FORMATS)}.")
    filename = f"{layer.collection_id}.{fmt}"
    if fmt == "geojson":
        content, count = _geojson(layer, bbox, max_features)
    else:
        rows = _rows(layer, bbox, max_features, wkt=fmt == "csv")
        fields = _field_names(layer, rows)
        content = _csv(rows, fields) if fmt == "csv" else _gpkg(layer, rows, fields)
        count = len(rows)
    return ExportFile(content=content, media_type=_MEDIA_TYPES[fmt], filename=filename, feature_count=count)


def _too_many(layer: Layer, max_features: int) -> InvalidParameter:
    return InvalidParameter(
        "bbox",
        f"The box holds more than {max_features} features of {layer.collection_id}; an export is limited to {max_features}.",
        hint="Zoom in (a smaller bbox) or download the whole layer page by page from the OGC API items endpoint.",
    )


def _where(layer: Layer, bbox: BBox | None) -> tuple[str, list[Any]]:
    """The rows of `layer` (aliased `f`) meeting the box: the same test as the items' bbox."""
    if bbox is None:
        return "f.layer_id = %s", [layer.id]
    box = bbox_condition(bbox)
    return f"f.layer_id = %s AND {box.sql}", [layer.id, *box.params]


def _geojson(layer: Layer, bbox: BBox | None, max_features: int) -> tuple[bytes, int]:
    # PostGIS writes each feature's JSON text; Python only joins them (no per-feature objects).
    where, params = _where(layer, bbox)
    sql = f"""
        SELECT '{{"type":"Feature","id":' || to_json(f.fid)::text
               || ',"geometry":' || coalesce(ST_AsGeoJSON(f.geom, 7), 'null')
               || ',"properties":' || coalesce(f.properties::text, '{{}}') || '}}'
        FROM layers_feature AS f WHERE {where} ORDER BY f.id LIMIT %s
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, max_features + 1])
        features = [row[0] for row in cursor.fetchall()]
    if len(features) > max_features:
        raise _too_many(layer, max_features)
    name = json.dumps(layer.collection_id)
    text = f'{{"type":"FeatureCollection","name":{name},"features":[{",".join(features)}]}}'
    return text.encode(), len(features)


def _rows(layer: Layer, bbox: BBox | None, max_features: int, *, wkt: bool) -> list[tuple[str, Any, dict[str, Any]]]:
    where, params = _where(layer, bbox)
    geometry = "ST_AsText(f.geom, 7)" if wkt else "ST_AsBinary(f.geom)"
    sql = f"SELECT f.fid, {geometry}, f.properties FROM layers_feature AS f WHERE {where} ORDER BY f.id LIMIT %s"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, max_features + 1])
        # Django's connection hands jsonb over as text (its JSONField decodes it); so do we.
        rows = [(fid, geom, json.loads(props) if props else {}) for fid, geom, props in cursor.fetchall()]
    if len(rows) > max_features:
        raise _too_many(layer, max_features)
    return rows


def _field_names(layer: Layer, rows: list[tuple[str, Any, dict[str, Any]]]) -> list[str]:
    """The layer's declared fields first (stable column order), then any other property found."""
    names = dict.fromkeys(layer.fields or {})
    for _fid, _geom, props in rows:
        names.update(dict.fromkeys(props))
    names.pop("fid", None)
    return list(names)


def _cell(value: Any) -> Any:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value


def _csv(rows: list[tuple[str, Any, dict[str, Any]]], fields: list[str]) -> bytes:
    # UTF-8 with a byte-order mark: spreadsheet programs then read Cyrillic correctly.
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["fid", "wkt", *fields])
    for fid, wkt, props in rows:
        writer.writerow([fid, wkt, *("" if props.get(f) is None else _cell(props.get(f)) for f in fields)])
    return out.getvalue().encode("utf-8-sig")


def _column(values: list[Any], declared: str | None) -> np.ndarray:
    """A typed column: numbers stay numbers (missing → NaN for reals), anything else is text (missing → null)."""
    present = [v for v in values if v is not None]
    if declared == "integer" and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        if len(present) == len(values):
            return np.array(values, dtype=np.int64)
        return np.array([math.nan if v is None else float(v) for v in values], dtype=np.float64)
    if declared == "number" and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return np.array([math.nan if v is None else float(v) for v in values], dtype=np.float64)
    return np.array([None if v is None else str(_cell(v)) for v in values], dtype=object)


def _gpkg(layer: Layer, rows: list[tuple[str, Any, dict[str, Any]]], fields: list[str]) -> bytes:
    declared = layer.fields or {}
    names = ["fid", *fields]
    columns = [np.array([fid for fid, _g, _p in rows], dtype=object)]
    columns += [_column([props.get(name) for _f, _g, props in rows], declared.get(name)) for name in fields]
    geometry = np.array([bytes(geom) if geom is not None else None for _f, geom, _p in rows], dtype=object)
    with tempfile.TemporaryDirectory(prefix="geoportal-export-") as directory:
        path = os.path.join(directory, f"{layer.collection_id}.gpkg")
        # GeoPackage keeps its own integer key; name it so our text `fid` column can keep its name.
        ogr_write(
            path,
            geometry,
            columns,
            names,
            layer=layer.collection_id,
            driver="GPKG",
            geometry_type="Unknown",
            crs="EPSG:4326",
            encoding="UTF-8",
            layer_options={"FID": "gpkg_fid"},
        )
        with open(path, "rb") as handle:
            return handle.read()
