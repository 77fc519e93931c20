"""Named per-row transforms (`geoportal ingest --transform NAME`), chosen per theme."""

from __future__ import annotations

from typing import Any

from ingest import osm_tags
from ingest.mapping import RowTransform
from layers.errors import InvalidParameter

# geoBoundaries shapeType → (boundaries.kind, OSM admin_level as used in Belarus)
_GEOBOUNDARIES_LEVELS = {"ADM0": ("country", 2), "ADM1": ("oblast", 4), "ADM2": ("district", 6)}


def geoboundaries(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    kind, level = _GEOBOUNDARIES_LEVELS.get(str(row.get("shapeType") or "").upper(), ("other", None))
    out["kind"] = kind
    if level is not None:
        out["admin_level"] = level
    return out


def constant(**values: Any) -> RowTransform:
    """Sets the same attributes on every row (e.g. kind='country' for a one-polygon border file)."""

    def transform(row: dict[str, Any]) -> dict[str, Any]:
        return {**row, **values}

    return transform


NAMES = ("osm", "geoboundaries")


def transform_named(name: str, *, theme: str) -> RowTransform:
    if name == "osm":
        if theme not in osm_tags.TRANSFORMS:
            raise InvalidParameter(
                "transform",
                f"--transform osm has no mapping for theme {theme!r}.",
                hint=f"It maps: {', '.join(osm_tags.TRANSFORMS)}.",
            )
        return osm_tags.TRANSFORMS[theme]
    if name == "geoboundaries":
        return geoboundaries
    raise InvalidParameter("transform", f"--transform {name!r} is unknown; known: {', '.join(NAMES)}.")
