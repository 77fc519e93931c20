"""Coordinate reference systems of the OGC API (Part 2, CRS by reference).

A CRS is named by its OGC URI and served in its official axis order: CRS84 is
longitude first, EPSG:4326 latitude first, the Pulkovo 1942 Gauss-Krüger zones
northing first. PostGIS geometries are always x = east / longitude, so a CRS
whose first axis points north is served through ST_FlipCoordinates. The
transforms themselves run in PostGIS (ST_Transform with an integer SRID); pyproj
is only asked which way the first axis points.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import pyproj

from layers.errors import InvalidParameter

CRS84_URI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_PREFIX = "http://www.opengis.net/def/crs/EPSG/0/"
STORAGE_SRID = 4326

# Offered for every collection, besides each city's registered local CRSs:
# WGS 84, Web Mercator, the UTM zones 34-36N and the Pulkovo 1942 GK zones 4-6 over Belarus.
COMMON_SRIDS = (4326, 3857, 32634, 32635, 32636, 28404, 28405, 28406)


@dataclass(frozen=True)
class Crs:
    uri: str
    srid: int
    northing_first: bool  # the first axis of the official order points north: swap x/y on the way in and out
    geographic: bool  # degrees: 7 decimals ≈ 1 cm; metres get 3 decimals

    @property
    def decimals(self) -> int:
        return 7 if self.geographic else 3


CRS84 = Crs(uri=CRS84_URI, srid=STORAGE_SRID, northing_first=False, geographic=True)


@cache
def crs_for_srid(srid: int) -> Crs:
    info = pyproj.CRS.from_epsg(srid)
    northing_first = info.axis_info[0].direction.lower() in ("north", "south")
    return Crs(uri=f"{EPSG_PREFIX}{srid}", srid=srid, northing_first=northing_first, geographic=info.is_geographic)


def crs_uris(local_srids: Iterable[int] = ()) -> list[str]:
    """The CRS list of a collection: CRS84 first (the default), then the EPSG codes in a stable order."""
    srids = list(COMMON_SRIDS) + [s for s in local_srids if s not in COMMON_SRIDS]
    return [CRS84_URI] + [f"{EPSG_PREFIX}{srid}" for srid in srids]


def parse_crs(parameter: str, raw: str, offered: list[str]) -> Crs:
    """The CRS named by `raw` if the collection offers it; 400 naming the parameter otherwise (never a silent CRS84)."""
    uri = raw.strip()
    if uri in ("[OGC:CRS84]", "OGC:CRS84"):
        uri = CRS84_URI
    elif uri.startswith("[EPSG:") and uri.endswith("]"):  # the safe CURIE form of OGC API Part 2
        uri = EPSG_PREFIX + uri[6:-1]
    if uri not in offered:
        raise InvalidParameter(
            parameter,
            f"{parameter}={raw!r} is not a CRS this collection is offered in.",
            hint="Use one of the URIs in the collection's 'crs' list: " + ", ".join(offered) + ".",
        )
    if uri == CRS84_URI:
        return CRS84
    return crs_for_srid(int(uri.removeprefix(EPSG_PREFIX)))
