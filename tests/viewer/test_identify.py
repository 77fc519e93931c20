"""/api/identify: the features of one collection near a point, nearest first, on the real PostGIS.

Distances are built from geodesic offsets (pyproj on WGS 84), so "2 m outside the tolerance" is
2 m on the ground, not an approximation in degrees.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
import shapely
from django.test import Client
from pyproj import Geod

from layers.models import Layer
from tests.conftest import FeatureSpec

GEOD = Geod(ellps="WGS84")
CENTRE = (27.5615, 53.9023)  # Minsk
IDENTIFY = "/api/identify"


def offset(lon: float, lat: float, *, east: float = 0.0, north: float = 0.0) -> tuple[float, float]:
    """The point `east` then `north` metres from lon/lat (geodesics on WGS 84)."""
    lon, lat, _ = GEOD.fwd(lon, lat, 90.0, east)
    lon, lat, _ = GEOD.fwd(lon, lat, 0.0, north)
    return lon, lat


def xy(east: float = 0.0, north: float = 0.0) -> str:
    """'lon lat' of the point `east`, `north` metres from the centre, for WKT."""
    lon, lat = offset(*CENTRE, east=east, north=north)
    return f"{lon!r} {lat!r}"


def point(east: float = 0.0, north: float = 0.0) -> str:
    return f"POINT({xy(east, north)})"


def square(west: float, south: float, size: float) -> str:
    """A square polygon `size` metres wide whose south-west corner is `west`/`south` metres from the centre."""
    corners = [offset(*CENTRE, east=west + dx, north=south + dy) for dx, dy in ((0, 0), (size, 0), (size, size), (0, size))]
    ring = ", ".join(f"{lon!r} {lat!r}" for lon, lat in [*corners, corners[0]])
    return f"POLYGON(({ring}))"


def identify(client: Client, cid: str, lon: float, lat: float, **extra: Any) -> dict[str, Any]:
    response = client.get(IDENTIFY, {"collection": cid, "lon": repr(lon), "lat": repr(lat), **extra})
    assert response.status_code == 200, response.content[:400]
    assert response["Content-Type"] == "application/geo+json"
    doc = json.loads(response.content)
    assert doc["type"] == "FeatureCollection"
    assert doc["numberReturned"] == len(doc["features"])
    return doc


def ids(doc: dict[str, Any]) -> list[str]:
    return [feature["id"] for feature in doc["features"]]


def test_nearest_first_with_fids_properties_and_item_links(client: Client, make_layer: Callable[..., Layer]) -> None:
    make_layer(
        "minsk",
        "trees",
        "buildings",
        [
            ("tree/far", point(east=-9), {"name": "far", "height": 12.5}),
            ("tree/near", point(north=2), {"name": "near", "height": 3}),
            ("tree/mid", point(east=5), {"name": "mid", "height": None}),
        ],
    )
    doc = identify(client, "minsk-trees", *CENTRE, tolerance="10")
    assert ids(doc) == ["tree/near", "tree/mid", "tree/far"]
    assert [round(feature["distance"], 1) for feature in doc["features"]] == [2.0, 5.0, 9.0]
    near = doc["features"][0]
    assert near["type"] == "Feature"
    assert near["properties"] == {"name": "near", "height": 3}
    assert near["links"] == [
        {
            "rel": "item",
            "type": "application/geo+json",
            "href": f"/ogc/collections/minsk-trees/items/{quote('tree/near', safe='')}",
        }
    ]
    assert doc["features"][2]["properties"] == {"name": "far", "height": 12.5}
    # The link is the OGC API item, and that item is the same feature.
    item = client.get(near["links"][0]["href"])
    assert item.status_code == 200 and json.loads(item.content)["id"] == "tree/near"
    assert json.loads(item.content)["properties"] == near["properties"]


def test_a_polygon_containing_the_point_comes_first_then_the_smaller_area(
    client: Client, make_layer: Callable[..., Layer]
) -> None:
    make_layer(
        "minsk",
        "blocks",
        "buildings",
        [
            ("pole", point(east=1), {}),  # 1 m away: nearer than nothing, farther than what contains the point
            ("big", square(-50, -50, 100), {}),  # contains the point
            ("small", square(-5, -5, 10), {}),  # contains the point too, smaller
            ("beside", square(3, -5, 10), {}),  # 3 m to the east
        ],
    )
    doc = identify(client, "minsk-blocks", *CENTRE, tolerance="5")
    assert ids(doc) == ["small", "big", "pole", "beside"]
    assert [feature["distance"] for feature in doc["features"][:2]] == [0, 0]
    # Equal distance and area: the fid decides.
    twins: list[FeatureSpec] = [
        ("b", point(east=2), {}),
        ("a", point(east=2), {}),
        ("d", square(-1, -1, 2), {}),
        ("c", square(-1, -1, 2), {}),
    ]
    make_layer("minsk", "twins", "buildings", twins)
    assert ids(identify(client, "minsk-twins", *CENTRE)) == ["c", "d", "a", "b"]


def test_the_tolerance_is_respected_in_metres(client: Client, make_layer: Callable[..., Layer]) -> None:
    make_layer(
        "minsk",
        "poles",
        "utilities",
        [
            ("inside-north", point(north=48), {}),
            ("outside-north", point(north=52), {}),
            ("inside-east", point(east=49), {}),  # a degree of longitude is shorter here: the box must still hold it
            ("outside-east", point(east=51), {}),
            ("line-inside", f"LINESTRING({xy(east=-30, north=-47)}, {xy(east=30, north=-47)})", {}),
            ("line-outside", f"LINESTRING({xy(east=-30, north=-53)}, {xy(east=30, north=-53)})", {}),
        ],
    )
    doc = identify(client, "minsk-poles", *CENTRE, tolerance="50")
    assert ids(doc) == ["line-inside", "inside-north", "inside-east"]
    assert all(feature["distance"] <= 50 for feature in doc["features"])
    # The default tolerance is 3 m: 1.5 and 2.5 m away are found, 3.5 m away is not.
    assert ids(identify(client, "minsk-poles", *offset(*CENTRE, north=49.5))) == ["inside-north", "outside-north"]
    assert ids(identify(client, "minsk-poles", *offset(*CENTRE, north=48.5))) == ["inside-north"]
    # 0 m finds only what touches the point.
    assert ids(identify(client, "minsk-poles", *offset(*CENTRE, north=48), tolerance="0")) == ["inside-north"]
    assert ids(identify(client, "minsk-poles", *offset(*CENTRE, north=48.01), tolerance="0")) == []


def test_the_full_geometry_is_returned_not_a_clipped_piece(client: Client, make_layer: Callable[..., Layer]) -> None:
    """A long road 2 km across several tiles comes back whole, in CRS84 (lon, lat) with 7 decimals."""
    start, end = offset(*CENTRE, east=-1000), offset(*CENTRE, east=1000)
    wkt = f"LINESTRING({start[0]!r} {start[1]!r}, {CENTRE[0]} {CENTRE[1]}, {end[0]!r} {end[1]!r})"
    make_layer("minsk", "avenue", "roads", [("way/1", wkt, {"name": "Praspiekt"})])
    doc = identify(client, "minsk-avenue", *CENTRE)
    [feature] = doc["features"]
    assert feature["geometry"]["type"] == "LineString"
    served = shapely.geometry.shape(feature["geometry"])
    assert served.equals_exact(shapely.from_wkt(wkt), tolerance=1e-7)
    assert feature["geometry"]["coordinates"][0] == pytest.approx(list(start), abs=1e-7)


def test_at_most_ten_features(client: Client, make_layer: Callable[..., Layer]) -> None:
    make_layer("minsk", "crowd", "addresses", [(f"p{i:02d}", point(east=i), {"n": i}) for i in range(15)])
    doc = identify(client, "minsk-crowd", *CENTRE, tolerance="100")
    assert ids(doc) == [f"p{i:02d}" for i in range(10)]
    assert doc["collection"] == "minsk-crowd"


def test_a_hidden_layer_answers_exactly_like_a_missing_one(client: Client, make_layer: Callable[..., Layer]) -> None:
    make_layer("minsk", "gas", "utilities", [("g1", point(), {"secret": True})], visibility="restricted")
    make_layer("minsk", "pipes", "utilities", [("p1", point(), {})], visibility="internal")
    params = {"lon": repr(CENTRE[0]), "lat": repr(CENTRE[1]), "tolerance": "100"}
    missing = client.get(IDENTIFY, {"collection": "minsk-xxx", **params})
    assert missing.status_code == 404
    assert json.loads(missing.content)["code"] == "NotFound"
    for cid in ("minsk-gas", "minsk-pipes"):
        hidden = client.get(IDENTIFY, {"collection": cid, **params})
        assert hidden.status_code == 404
        assert hidden["Content-Type"] == missing["Content-Type"]
        twin = cid.split("-")[0] + "-" + "x" * len(cid.split("-")[1])
        assert hidden.content.replace(cid.encode(), twin.encode()) == client.get(IDENTIFY, {"collection": twin, **params}).content
        assert b"secret" not in hidden.content


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({"lon": "27.5", "lat": "53.9"}, "collection"),
        ({"collection": "", "lon": "27.5", "lat": "53.9"}, "collection"),
        ({"collection": "buildings", "lon": "27.5", "lat": "53.9"}, "collection"),  # a theme collection
        ({"collection": "minsk-trees", "lat": "53.9"}, "lon"),
        ({"collection": "minsk-trees", "lon": "", "lat": "53.9"}, "lon"),
        ({"collection": "minsk-trees", "lon": "east", "lat": "53.9"}, "lon"),
        ({"collection": "minsk-trees", "lon": "NaN", "lat": "53.9"}, "lon"),
        ({"collection": "minsk-trees", "lon": "inf", "lat": "53.9"}, "lon"),
        ({"collection": "minsk-trees", "lon": "180.5", "lat": "53.9"}, "lon"),
        ({"collection": "minsk-trees", "lon": "27.5"}, "lat"),
        ({"collection": "minsk-trees", "lon": "27.5", "lat": "-90.01"}, "lat"),
        ({"collection": "minsk-trees", "lon": "27.5", "lat": "-Infinity"}, "lat"),
        ({"collection": "minsk-trees", "lon": "27.5", "lat": "53.9", "tolerance": "-1"}, "tolerance"),
        ({"collection": "minsk-trees", "lon": "27.5", "lat": "53.9", "tolerance": "5000.1"}, "tolerance"),
        ({"collection": "minsk-trees", "lon": "27.5", "lat": "53.9", "tolerance": "nan"}, "tolerance"),
        ({"collection": "minsk-trees", "lon": "27.5", "lat": "53.9", "tolerance": "3m"}, "tolerance"),
        ({"collection": "minsk-trees", "lon": "27.5", "lat": "53.9", "bbox": "1,2,3,4"}, "bbox"),
    ],
)
def test_a_bad_parameter_answers_400_naming_it(
    client: Client, make_layer: Callable[..., Layer], query: dict[str, str], parameter: str
) -> None:
    make_layer("minsk", "trees", "buildings", [("t1", point(), {})])
    response = client.get(IDENTIFY, query)
    assert response.status_code == 400, response.content
    doc = json.loads(response.content)
    assert doc["code"] == "InvalidParameterValue"
    assert doc["parameter"] == parameter
    assert parameter in doc["description"]
    if parameter != "bbox":  # says how to fix it
        assert "/api/identify?" in doc["description"] or "collection=minsk-" in doc["description"], doc


def test_repeated_parameters_and_extreme_but_valid_points_never_fail(client: Client, make_layer: Callable[..., Layer]) -> None:
    make_layer("minsk", "trees", "buildings", [("t1", point(), {})])
    twice = client.get(IDENTIFY, {"collection": "minsk-trees", "lon": ["27.5", "27.6"], "lat": "53.9"})
    assert twice.status_code == 400 and json.loads(twice.content)["parameter"] == "lon"
    # The poles and the antimeridian with the largest tolerance: an empty answer, not an error.
    for lon, lat in ((180.0, 90.0), (-180.0, -90.0), (0.0, 89.9999), (179.9999, 0.0)):
        assert identify(client, "minsk-trees", lon, lat, tolerance="5000")["features"] == []
