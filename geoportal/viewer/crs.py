"""Parameters of a city's projected CRS for the cursor read-out, taken from PROJ.

The browser converts the cursor position itself (static/viewer/crs.js: a
Helmert datum shift and the Krüger series of the transverse Mercator), so
it needs numbers, not a PROJ string. They come from the transformation PROJ
ranks best for EPSG:4326 → the CRS (for the Pulkovo 1942 Gauss-Krüger zones
that is a 7-parameter Helmert shift, a few metres accurate; for UTM none),
so the read-out agrees with pyproj (tests/viewer/test_crs.py).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pyproj import Geod
from pyproj.transformer import TransformerGroup

_HELMERT_KEYS = ("x", "y", "z", "rx", "ry", "rz", "s")


def _steps(pipeline: str) -> list[dict[str, str]]:
    steps: list[dict[str, str]] = []
    for chunk in pipeline.split("+step")[1:]:
        step: dict[str, str] = {}
        for token in chunk.split():
            name, _, value = token.lstrip("+").partition("=")
            step[name] = value
        steps.append(step)
    return steps


def _ellipsoid(name: str) -> dict[str, float]:
    geod = Geod(ellps=name)
    return {"a": geod.a, "f": geod.f}


def _helmert(step: dict[str, str]) -> dict[str, float]:
    """WGS 84 → target, in the coordinate-frame convention; an inverse step is undone by negating (exact to < 1 mm here)."""
    sign = -1.0 if "inv" in step else 1.0
    values = {key: sign * float(step.get(key) or 0) for key in _HELMERT_KEYS}
    if step.get("convention") == "position_vector":
        values.update(rx=-values["rx"], ry=-values["ry"], rz=-values["rz"])
    return values


@cache
def projection_params(srid: int) -> dict[str, Any] | None:
    """{srid, helmert | None, ellipsoid, lon_0, lat_0, k, x_0, y_0} of a transverse Mercator CRS; None for any other kind."""
    group = TransformerGroup(4326, srid, always_xy=True)
    if not group.transformers:
        return None
    pipeline = group.transformers[0].to_proj4() or ""
    helmert = None
    result: dict[str, Any] | None = None
    for step in _steps(pipeline):
        if step.get("proj") == "helmert":
            helmert = _helmert(step)
        elif step.get("proj") == "utm":
            zone = int(step["zone"])
            result = {
                "lon_0": zone * 6 - 183,
                "lat_0": 0.0,
                "k": 0.9996,
                "x_0": 500000.0,
                "y_0": 10000000.0 if "south" in step else 0.0,
            }
            result["ellipsoid"] = _ellipsoid(step.get("ellps", "WGS84"))
        elif step.get("proj") == "tmerc":
            result = {
                name: float(step.get(name, default))
                for name, default in (("lon_0", 0), ("lat_0", 0), ("k", 1), ("x_0", 0), ("y_0", 0))
            }
            result["ellipsoid"] = _ellipsoid(step.get("ellps", "WGS84"))
    if result is None or result["lat_0"] != 0:
        return None  # not a transverse Mercator on the equator: the read-out shows WGS 84 only
    return {"srid": srid, "helmert": helmert, **result}
