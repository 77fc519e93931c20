"""Geometries of one batch: decode, reproject, repair, normalise to the theme's type, encode as EWKB."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from ingest.crs import CoordinateFn
from ingest.report import WarningLog
from layers.errors import IngestError

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


@dataclass(frozen=True)
class GeometryRules:
    source: str = ""  # file:layer, for error messages
    skip_other_types: bool = False  # a Point in a polygon theme: skip it (True) or refuse the file (False)
    area: tuple[float, float, float, float] | None = None  # lon/lat box; features outside it are flagged


def prepare(
    wkb: np.ndarray,
    *,
    first_feature: int,
    reproject: CoordinateFn | None,
    target: str,
    warnings: WarningLog,
    rules: GeometryRules | None = None,
) -> PreparedGeometries:
    """Feature numbers in warnings are 1-based positions in the file (first_feature is the batch's first)."""
    rules = rules or GeometryRules(skip_other_types=True)
    geoms = shapely.from_wkb(wkb, on_invalid="ignore")
    _refuse_wild_coordinates(geoms, first_feature, rules.source, "in the source")
    geoms, placeholders = _drop_null_island(geoms, first_feature, warnings)
    if reproject is not None:
        geoms = shapely.transform(geoms, reproject)
    _refuse_wild_coordinates(geoms, first_feature, rules.source, "after reprojection to lon/lat", lonlat=True)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if rules.area is not None:
        _flag_far_outside(geoms, missing, rules.area, first_feature, warnings)
    invalid = ~missing & ~shapely.is_valid(geoms)
    repaired = int(invalid.sum())
    if repaired:
        geoms[invalid] = shapely.make_valid(geoms[invalid])
        for position in np.flatnonzero(invalid).tolist():
            warnings.add("geometry-repaired", "invalid geometry repaired (make_valid)", first_feature + position)
    shaped, skipped = _normalise_all(geoms, missing, target, first_feature, warnings, rules, placeholders)
    ok = ~shapely.is_missing(shaped)
    encoded: list[str | None] = [None] * len(shaped)
    if ok.any():
        ewkb: list[str | None] = [_with_srid_4326(b.hex()) for b in shapely.to_wkb(shaped[ok], hex=False, byte_order=1)]
        if ok.all():
            encoded = ewkb
        else:
            for position, text in zip(np.flatnonzero(ok).tolist(), ewkb, strict=True):
                encoded[position] = text
    return PreparedGeometries(ewkb_hex=encoded, repaired=repaired, skipped=skipped)


def _with_srid_4326(wkb_hex: str) -> str:
    """Little-endian 2D WKB (hex) → EWKB with SRID 4326: the SRID flag in the type's high byte, then the SRID.

    The same text as shapely.to_wkb(set_srid(g, 4326), hex=True, include_srid=True), at a third of
    the cost: GEOS's hex writer is slow, and setting SRIDs copies every geometry.
    """
    return wkb_hex[:8] + "20e6100000" + wkb_hex[10:]


# shapely type ids: the single type that only needs wrapping to become the theme's multi type
_TYPE_ID = {"Point": 0, "LineString": 1, "Polygon": 3, "MultiPoint": 4, "MultiLineString": 5, "MultiPolygon": 6}
_WRAP = {
    "MultiPolygon": (3, shapely.multipolygons),
    "MultiLineString": (1, shapely.multilinestrings),
    "MultiPoint": (0, shapely.multipoints),
}


def _drop_null_island(geoms: np.ndarray, first: int, warnings: WarningLog) -> tuple[np.ndarray, np.ndarray]:
    """A point at exactly 0,0 is how spreadsheets say 'position unknown': skip it rather than map it off Africa."""
    points = shapely.get_type_id(geoms) == 0
    at_origin = np.zeros(len(geoms), dtype=bool)
    if not points.any():
        return geoms, at_origin
    at_origin[points] = (shapely.get_x(geoms[points]) == 0) & (shapely.get_y(geoms[points]) == 0)
    if at_origin.any():
        geoms = geoms.copy()
        geoms[at_origin] = None
        for position in np.flatnonzero(at_origin).tolist():
            warnings.add("null-island", "point at 0,0 (a placeholder for an unknown position) — skipped", first + position)
    return geoms, at_origin


def _refuse_wild_coordinates(geoms: np.ndarray, first: int, source: str, stage: str, *, lonlat: bool = False) -> None:
    """NaN, infinite or (for lon/lat) out-of-range coordinates make the whole file suspect: refuse it."""
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    if not len(coords):
        return
    bad = ~np.isfinite(coords).all(axis=1)
    if lonlat:
        bad |= (np.abs(coords[:, 0]) > 180.0) | (np.abs(coords[:, 1]) > 90.0)
    if bad.any():
        position = int(np.flatnonzero(bad)[0])
        x, y = (float(v) for v in coords[position])
        raise IngestError(
            f"coordinate ({x!r}, {y!r}) {stage} is not a finite position"
            + (" on Earth (longitude ±180, latitude ±90)" if lonlat else "")
            + f"; {int(bad.sum())} such coordinate(s).",
            source=source,
            feature=first + int(index[position]),
            hint="Fix or remove the feature; check that --crs matches the coordinates.",
        )


def _flag_far_outside(
    geoms: np.ndarray, missing: np.ndarray, area: tuple[float, float, float, float], first: int, warnings: WarningLog
) -> None:
    """Features that do not touch the area (the city's extent grown by its own size) are kept but flagged."""
    width, height = area[2] - area[0], area[3] - area[1]
    box = shapely.box(area[0] - width, area[1] - height, area[2] + width, area[3] + height)
    outside = ~missing & ~shapely.intersects(geoms, box)
    for position in np.flatnonzero(outside).tolist():
        warnings.add("far-outside", "far outside the city's extent (kept; check the CRS or the city)", first + position)


def _normalise_all(
    geoms: np.ndarray,
    missing: np.ndarray,
    target: str,
    first_feature: int,
    warnings: WarningLog,
    rules: GeometryRules,
    placeholders: np.ndarray,
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
            if not placeholders[position]:
                warnings.add("geometry-missing", "no geometry (null or empty) — skipped", number)
            skipped += 1
            continue
        out[position] = normalise(geom, target)
        if out[position] is None and not rules.skip_other_types:
            raise IngestError(
                f"a {geom.geom_type} where the theme expects {target} (mixed geometry types).",
                source=rules.source,
                feature=number,
                hint="Split the file by geometry type, or pass --skip-other-geometries to import only the matching ones.",
            )
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
