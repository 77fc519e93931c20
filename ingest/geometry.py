"""Geometries of one batch: decode, reproject, repair, normalise to the theme's type, encode as EWKB."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from ingest.crs import CoordinateFn
from ingest.report import WarningLog

_POLYGONAL = ("Polygon", "MultiPolygon")
_LINEAR = ("LineString", "MultiLineString")
_PUNTAL = ("Point", "MultiPoint")
_FAMILY = {
    "MultiPolygon": _POLYGONAL,
    "MultiLineString": _LINEAR,
    "LineString": _LINEAR,
    "Point": _PUNTAL,
    "MultiPoint": _PUNTAL,
}


@dataclass(frozen=True)
class PreparedGeometries:
    ewkb_hex: list[str | None]  # None = the row is skipped
    repaired: int
    skipped: int


def prepare(
    wkb: np.ndarray, *, first_feature: int, reproject: CoordinateFn | None, target: str, warnings: WarningLog
) -> PreparedGeometries:
    """Feature numbers in warnings are 1-based positions in the file (first_feature is the batch's first)."""
    geoms = shapely.from_wkb(wkb, on_invalid="ignore")
    if reproject is not None:
        geoms = shapely.transform(geoms, reproject)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    invalid = ~missing & ~shapely.is_valid(geoms)
    repaired = int(invalid.sum())
    if repaired:
        geoms[invalid] = shapely.make_valid(geoms[invalid])
        for position in np.flatnonzero(invalid).tolist():
            warnings.add("geometry-repaired", "invalid geometry repaired (make_valid)", first_feature + position)
    shaped, skipped = _normalise_all(geoms, missing, target, first_feature, warnings)
    ok = ~shapely.is_missing(shaped)
    encoded = np.full(len(shaped), None, dtype=object)
    if ok.any():
        encoded[ok] = shapely.to_wkb(shapely.set_srid(shaped[ok], 4326), hex=True, include_srid=True)
    return PreparedGeometries(ewkb_hex=encoded.tolist(), repaired=repaired, skipped=skipped)


# shapely type ids: the single type that only needs wrapping to become the theme's multi type
_TYPE_ID = {"Point": 0, "LineString": 1, "Polygon": 3, "MultiPoint": 4, "MultiLineString": 5, "MultiPolygon": 6}
_WRAP = {
    "MultiPolygon": (3, shapely.multipolygons),
    "MultiLineString": (1, shapely.multilinestrings),
    "MultiPoint": (0, shapely.multipoints),
}


def _normalise_all(
    geoms: np.ndarray, missing: np.ndarray, target: str, first_feature: int, warnings: WarningLog
) -> tuple[np.ndarray, int]:
    """Vectorised for the common cases (already the target type; a single part to wrap), per geometry otherwise."""
    out = np.full(len(geoms), None, dtype=object)
    types = shapely.get_type_id(geoms)
    done = ~missing & (types == _TYPE_ID[target])
    out[done] = geoms[done]
    if target in _WRAP:
        single_id, make = _WRAP[target]
        wrap = ~missing & (types == single_id)
        if wrap.any():
            out[wrap] = make(geoms[wrap], indices=np.arange(int(wrap.sum())))
        done |= wrap
    skipped = 0
    for position in np.flatnonzero(~done).tolist():
        number = first_feature + position
        geom = geoms[position]
        if missing[position]:
            warnings.add("geometry-missing", "no geometry (null or empty) — skipped", number)
            skipped += 1
            continue
        out[position] = normalise(geom, target)
        if out[position] is None:
            warnings.add(f"geometry-type-{geom.geom_type}", f"a {geom.geom_type} cannot be stored as {target} — skipped", number)
            skipped += 1
    return out, skipped


def normalise(geom: BaseGeometry, target: str) -> BaseGeometry | None:
    """geom as the theme's geometry type, or None when it is of another kind (e.g. a line for a polygon theme)."""
    family = _FAMILY[target]
    parts = [g for g in _flatten(geom) if g.geom_type in family and not g.is_empty]
    if not parts:
        return None
    if target.startswith("Multi"):
        singles = [p for g in parts for p in (g.geoms if g.geom_type.startswith("Multi") else [g])]  # type: ignore[attr-defined]
        return (
            shapely.multipolygons(singles)
            if target == "MultiPolygon"
            else (shapely.multilinestrings(singles) if target == "MultiLineString" else shapely.multipoints(singles))
        )
    if len(parts) == 1 and parts[0].geom_type == target:
        return parts[0]
    if len(parts) == 1 and parts[0].geom_type.startswith("Multi") and len(parts[0].geoms) == 1:  # type: ignore[attr-defined]
        return parts[0].geoms[0]  # type: ignore[attr-defined]
    return None


def _flatten(geom: BaseGeometry) -> list[BaseGeometry]:
    if geom.geom_type == "GeometryCollection":
        return [part for g in geom.geoms for part in _flatten(g)]  # type: ignore[attr-defined]
    return [geom]
