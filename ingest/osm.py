"""An OpenStreetMap extract (.osm.pbf / .osm) → roads, buildings, utilities, addresses, boundaries and water layers
for every registered city the extract covers, clipped to each city's extent.

GDAL's OSM driver reads the file (one pass per OSM layer it needs); rows are split by city here
and each city's share goes through the normal import (as a small GeoPackage) in `sync` mode keyed
on the OSM id, so running it again with a newer extract records inserts, updates and deletes.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import pyogrio.raw
import shapely

from config.loader import Config
from ingest import osm_tags
from ingest.readers import READ_ERRORS
from ingest.services import IngestResult, LayerOptions, Progress, import_file
from layers.errors import IngestError, InvalidParameter
from layers.models import City

OSM_ATTRIBUTION = "© OpenStreetMap contributors, ODbL 1.0"
KEY = "osm_key"  # "n123" / "w123" / "r123": stable across extracts
# Water areas: natural=water (lakes, ponds, rivers as areas …), the older waterway=riverbank, reservoirs and
# basins. River centre lines (waterway=river/stream as lines) are left out: the water theme holds areas.
WATER_AREAS = "natural = 'water' OR landuse IN ('reservoir', 'basin') OR other_tags LIKE '%\"waterway\"=>\"riverbank\"%'"
POWER = '\'%"power"=>"line"%\'', '\'%"power"=>"minor_line"%\'', '\'%"power"=>"cable"%\''


@dataclass(frozen=True)
class OsmTheme:
    theme: str
    osm_layer: str
    where: str
    transform: Callable[[dict[str, Any]], dict[str, Any]]


OSM_THEMES = (
    OsmTheme("roads", "lines", "highway IS NOT NULL", osm_tags.roads),
    OsmTheme("buildings", "multipolygons", "building IS NOT NULL", osm_tags.buildings),
    OsmTheme(
        "utilities",
        "lines",
        " OR ".join([*(f"other_tags LIKE {p}" for p in POWER), "man_made = 'pipeline'"]),
        osm_tags.utilities,
    ),
    OsmTheme("addresses", "points", "other_tags LIKE '%\"addr:housenumber\"%'", osm_tags.addresses),
    OsmTheme("boundaries", "multipolygons", "boundary = 'administrative'", osm_tags.boundaries),
    OsmTheme("water", "multipolygons", WATER_AREAS, osm_tags.water),
)


def import_osm(
    *,
    config: Config,
    path: Path,
    cities: list[str] | None = None,
    themes: list[str] | None = None,
    actor: str | None = None,
    progress: Callable[[str], None] | None = None,
    feature_progress: Progress | None = None,
) -> list[IngestResult]:
    """One layer per (covered city, theme); returns the import results in that order."""
    if not path.is_file():
        raise InvalidParameter("file", f"{path}: no such file.")
    chosen = [t for t in OSM_THEMES if themes is None or t.theme in themes]
    unknown = set(themes or []) - {t.theme for t in OSM_THEMES}
    if unknown:
        raise InvalidParameter("theme", f"OSM import has no theme {sorted(unknown)}; themes: {[t.theme for t in OSM_THEMES]}.")
    covered = _covered_cities(path, cities)
    results: list[IngestResult] = []
    with tempfile.TemporaryDirectory(prefix="geoportal-osm-") as workdir:
        for spec in chosen:
            if progress:
                progress(f"reading {spec.osm_layer} for {spec.theme} ({spec.where[:60]})")
            rows = _read(path, spec, _union_bbox(covered))
            for city in covered:
                share = _clip(rows, city)
                if share is None:
                    continue
                gpkg = Path(workdir) / f"{city.slug}_{spec.theme}.gpkg"
                _write_gpkg(gpkg, spec.theme, share)
                results.append(
                    import_file(
                        config=config,
                        path=gpkg,
                        city=city.slug,
                        theme=spec.theme,
                        transform=spec.transform,
                        mode="sync",
                        key=KEY,
                        skip_other_geometries=True,
                        options=LayerOptions(attribution=OSM_ATTRIBUTION, license="ODbL-1.0"),
                        actor=actor,
                        display_name=f"{path.name} [{spec.theme}, {city.slug}]",
                        progress=feature_progress,
                    )
                )
    return results


def _covered_cities(path: Path, wanted: list[str] | None) -> list[City]:
    try:
        info = pyogrio.read_info(path, layer="points", force_total_bounds=True)
    except READ_ERRORS as exc:
        raise IngestError(f"cannot be read as an OpenStreetMap extract ({str(exc).splitlines()[0]}).", source=path.name) from None
    bounds = info.get("total_bounds")
    if bounds is None or not np.isfinite(bounds).all():
        raise IngestError("the extract has no nodes to judge its area from.", source=path.name)
    extract = shapely.box(*bounds)
    rows = City.objects.all().order_by("sort_order", "slug")
    if wanted:
        rows = rows.filter(slug__in=wanted)
    covered = [city for city in rows if extract.intersects(shapely.from_wkb(bytes(city.extent.wkb)))]
    if not covered:
        raise IngestError(
            f"the extract ({', '.join(f'{b:.3f}' for b in bounds)}) covers none of the registered cities.",
            source=path.name,
            hint="Use an extract of Belarus (or of the sample city's area); `geoportal setup` registers the cities.",
        )
    return covered


def _union_bbox(cities: list[City]) -> tuple[float, float, float, float]:
    boxes = np.array([city.extent.extent for city in cities])
    return float(boxes[:, 0].min()), float(boxes[:, 1].min()), float(boxes[:, 2].max()), float(boxes[:, 3].max())


@dataclass
class _Rows:
    geoms: np.ndarray
    fields: list[str]
    columns: list[np.ndarray]


def _read(path: Path, spec: OsmTheme, bbox: tuple[float, float, float, float]) -> _Rows:
    try:
        meta, _fids, wkb, data = pyogrio.raw.read(path, layer=spec.osm_layer, where=spec.where, bbox=bbox)
    except READ_ERRORS as exc:
        raise IngestError(f"reading {spec.osm_layer} failed ({str(exc).splitlines()[0]}).", source=path.name) from None
    fields = [str(f) for f in meta["fields"]]
    keys = _osm_keys(spec.osm_layer, dict(zip(fields, data, strict=True)), len(wkb))
    return _Rows(geoms=shapely.from_wkb(wkb, on_invalid="ignore"), fields=[KEY, *fields], columns=[keys, *data])


def _osm_keys(layer: str, columns: dict[str, np.ndarray], count: int) -> np.ndarray:
    """n/w/r + id, the way OSM itself names objects (a multipolygon is a closed way or a relation)."""
    if layer == "multipolygons":
        ways, relations = columns["osm_way_id"], columns["osm_id"]
        return np.array([f"w{w}" if w not in (None, "") else f"r{r}" for w, r in zip(ways, relations, strict=True)], dtype=object)
    prefix = "n" if layer == "points" else "w"
    return np.array([f"{prefix}{i}" for i in columns["osm_id"]], dtype=object) if count else np.array([], dtype=object)


def _clip(rows: _Rows, city: City) -> _Rows | None:
    xmin, ymin, xmax, ymax = city.extent.extent
    touching = shapely.intersects(rows.geoms, shapely.box(xmin, ymin, xmax, ymax))
    if not touching.any():
        return None
    clipped = shapely.clip_by_rect(rows.geoms[touching], xmin, ymin, xmax, ymax)
    keep = ~shapely.is_empty(clipped)
    if not keep.any():
        return None
    return _Rows(geoms=clipped[keep], fields=rows.fields, columns=[c[touching][keep] for c in rows.columns])


def _write_gpkg(target: Path, layer: str, rows: _Rows) -> None:
    pyogrio.raw.write(
        target,
        geometry=shapely.to_wkb(rows.geoms),
        field_data=rows.columns,
        fields=rows.fields,
        layer=layer,
        driver="GPKG",
        geometry_type="Unknown",
        crs="EPSG:4326",
    )
