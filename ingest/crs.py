"""Source CRS: parse what the user passed, honour what the file declares, build the reprojection."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from layers.crs import COMMON_SRIDS  # what Belarusian files come in: the CRSs offered everywhere
from layers.errors import IngestError, InvalidParameter

WGS84 = CRS.from_epsg(4326)
CoordinateFn = Callable[[np.ndarray], np.ndarray]


BELARUS_BBOX = (23.1, 51.2, 32.8, 56.2)
Bounds = tuple[float, float, float, float]


def parse_crs_option(text: str, *, local_crs: list[dict] | None = None) -> CRS:
    """--crs EPSG:NNNN, a bare code, a PROJ string, WKT, or the name of one of the city's local CRSs."""
    value = text.strip()
    for entry in local_crs or []:
        if value.lower() == str(entry.get("name", "")).lower():
            value = str(entry["srid"])
    if value.isdigit():
        value = f"EPSG:{value}"
    try:
        return CRS.from_user_input(value)
    except CRSError:
        raise InvalidParameter(
            "crs",
            f"--crs {text!r} is not a coordinate reference system known to PROJ.",
            hint="Pass an EPSG code such as EPSG:32635 (UTM 35N) or EPSG:4326, a PROJ string, WKT, "
            + "or a city's local CRS name"
            + (f" ({', '.join(str(e.get('name')) for e in local_crs)})" if local_crs else "")
            + ".",
        ) from None


def crs_label(crs: CRS) -> str:
    """'EPSG:32635' when the CRS has an authority code, otherwise its name."""
    authority = crs.to_authority(min_confidence=70)
    return f"{authority[0]}:{authority[1]}" if authority else crs.name


def _generic_hint() -> str:
    return "Pass --crs EPSG:NNNN."


def resolve_source_crs(
    declared: str | None, override: CRS | None, *, source: str, candidates_hint: Callable[[], str] = _generic_hint
) -> tuple[CRS, str | None]:
    """The CRS to read the coordinates in, and a warning when --crs overrides what the file says."""
    if override is not None:
        if declared:
            file_crs = _parse_declared(declared, source=source)
            if file_crs is not None and not file_crs.equals(override, ignore_axis_order=True):
                return override, f"--crs {crs_label(override)} overrides the file's CRS {crs_label(file_crs)}"
        return override, None
    if not declared:
        raise IngestError("the file declares no CRS.", source=source, hint=candidates_hint())
    file_crs = _parse_declared(declared, source=source)
    if file_crs is None:
        raise IngestError(
            f"the file's CRS cannot be understood: {declared[:120]!r}.", source=source, hint="Pass --crs EPSG:NNNN."
        )
    return file_crs, None


def _parse_declared(declared: str, *, source: str) -> CRS | None:
    try:
        return CRS.from_user_input(declared)
    except CRSError:
        return None


def to_wgs84(crs: CRS) -> CoordinateFn | None:
    """A vectorised (N, 2) → (N, 2) lon/lat function, or None when the source already is lon/lat WGS 84."""
    if crs.equals(WGS84, ignore_axis_order=True):
        return None
    transformer = Transformer.from_crs(crs, WGS84, always_xy=True)

    def transform(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack((x, y))

    return transform


def _area_label(crs: CRS) -> str:
    return f"{crs_label(crs)} ({crs.name})"


def candidates_hint(bounds: Bounds | None, *, target: Bounds, target_name: str, local_srids: list[int]) -> str:
    """Which CRSs would put the coordinates inside the target area, judged from the bounds of the data."""
    if bounds is None:
        return "Pass --crs EPSG:NNNN (the data has no coordinates to judge from)."
    codes = list(dict.fromkeys([*COMMON_SRIDS, *local_srids]))
    fitting = [code for code in codes if _lands_in(bounds, code, target)]
    span = f"x {bounds[0]:.6g}–{bounds[2]:.6g}, y {bounds[1]:.6g}–{bounds[3]:.6g}"
    if fitting:
        listed = "; ".join(_area_label(CRS.from_epsg(code)) for code in fitting)
        return f"The coordinates ({span}) land in {target_name} if read as: {listed}. Pass e.g. --crs EPSG:{fitting[0]}."
    listed = ", ".join(f"EPSG:{code}" for code in codes)
    return (
        f"None of the usual CRSs ({listed}) puts the coordinates ({span}) in {target_name}; "
        "the values may be scaled or shifted. Pass --crs with the right definition (EPSG code, PROJ string or WKT)."
    )


def _lands_in(bounds: Bounds, epsg: int, target: Bounds) -> bool:
    """Centre of the data, reprojected, falls inside the target area grown by half its size."""
    try:
        transformer = Transformer.from_crs(CRS.from_epsg(epsg), WGS84, always_xy=True)
        lon, lat = transformer.transform((bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2, errcheck=True)
    except Exception:  # pyproj raises several kinds for points outside a projection's domain
        return False
    grow_x, grow_y = max((target[2] - target[0]) / 2, 0.05), max((target[3] - target[1]) / 2, 0.05)
    return target[0] - grow_x <= lon <= target[2] + grow_x and target[1] - grow_y <= lat <= target[3] + grow_y


def refuse_contradicting_crs(crs: CRS, bounds: Bounds | None, *, source: str, hint_candidates: Callable[[], str]) -> None:
    """A projected CRS whose coordinates are degrees (or a geographic one with metre-sized values) is a lying .prj."""
    if bounds is None:
        return
    xmin, ymin, xmax, ymax = bounds
    looks_like_degrees = -180 <= xmin <= xmax <= 180 and -90 <= ymin <= ymax <= 90
    span = f"x {xmin:.6g}–{xmax:.6g}, y {ymin:.6g}–{ymax:.6g}"
    if crs.is_projected and looks_like_degrees:
        raise IngestError(
            f"the declared CRS {_area_label(crs)} is in metres, but the coordinates ({span}) are degrees: "
            "the .prj (or crs member) contradicts the data.",
            source=source,
            hint="If the coordinates are longitude/latitude, re-run with --crs EPSG:4326 (or replace the .prj).",
        )
    if crs.is_geographic and not looks_like_degrees:
        raise IngestError(
            f"the declared CRS {_area_label(crs)} is in degrees, but the coordinates ({span}) are not: "
            "the .prj (or crs member) contradicts the data.",
            source=source,
            hint=hint_candidates(),
        )
