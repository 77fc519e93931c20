"""Source CRS: parse what the user passed, honour what the file declares, build the reprojection."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from layers.errors import IngestError, InvalidParameter

WGS84 = CRS.from_epsg(4326)
CoordinateFn = Callable[[np.ndarray], np.ndarray]


def parse_crs_option(text: str) -> CRS:
    """--crs EPSG:NNNN (or any authority:code / PROJ string pyproj understands)."""
    value = text.strip()
    if value.isdigit():
        value = f"EPSG:{value}"
    try:
        return CRS.from_user_input(value)
    except CRSError:
        raise InvalidParameter(
            "crs",
            f"--crs {text!r} is not a coordinate reference system known to PROJ.",
            hint="Pass an EPSG code such as EPSG:32635 (UTM 35N) or EPSG:4326.",
        ) from None


def crs_label(crs: CRS) -> str:
    """'EPSG:32635' when the CRS has an authority code, otherwise its name."""
    authority = crs.to_authority(min_confidence=70)
    return f"{authority[0]}:{authority[1]}" if authority else crs.name


def resolve_source_crs(declared: str | None, override: CRS | None, *, source: str) -> tuple[CRS, str | None]:
    """The CRS to read the coordinates in, and a warning when --crs overrides what the file says."""
    if override is not None:
        if declared:
            file_crs = _parse_declared(declared, source=source)
            if file_crs is not None and not file_crs.equals(override, ignore_axis_order=True):
                return override, f"--crs {crs_label(override)} overrides the file's CRS {crs_label(file_crs)}"
        return override, None
    if not declared:
        raise IngestError("the file declares no CRS.", source=source, hint="Pass --crs EPSG:NNNN.")
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
