"""CRS by reference (Part 2): every offered CRS × its official axis order, checked against pyproj."""

from __future__ import annotations

import json

import pyproj
import pytest
import shapely
from shapely.geometry import shape

from layers.crs import COMMON_SRIDS, CRS84_URI, EPSG_PREFIX

B1_CORNER = (25.30, 53.89)  # lon, lat of the first vertex of Lida building b1


def expected_corner(srid: int) -> tuple[float, float]:
    """b1's first vertex in `srid`, in that CRS's official axis order (pyproj without always_xy)."""
    lon, lat = B1_CORNER
    return pyproj.Transformer.from_crs("EPSG:4326", f"EPSG:{srid}").transform(lat, lon)


@pytest.mark.parametrize("srid", COMMON_SRIDS)
def test_item_in_each_crs_matches_pyproj(client, lida_buildings, srid):
    uri = f"{EPSG_PREFIX}{srid}"
    response = client.get("/ogc/collections/lida-buildings/items/b1", {"crs": uri})
    assert response.status_code == 200
    assert response["Content-Crs"] == f"<{uri}>"
    geometry = json.loads(response.content)["geometry"]
    assert set(geometry) == {"type", "coordinates"}  # no PostGIS "crs" member: the CRS is in Content-Crs
    first = geometry["coordinates"][0][0]
    geographic = pyproj.CRS.from_epsg(srid).is_geographic
    assert first == pytest.approx(expected_corner(srid), abs=1e-7 if geographic else 1e-3)


def test_axis_order_is_official(client, lida_buildings):
    """EPSG:4326 latitude first, Gauss-Krüger northing first, UTM and Web Mercator easting first."""

    def corner(uri):
        return client.get("/ogc/collections/lida-buildings/items/b1", {"crs": uri}).json()["geometry"]["coordinates"][0][0]

    assert corner(CRS84_URI) == [25.3, 53.89]
    assert corner(EPSG_PREFIX + "4326") == [53.89, 25.3]
    northing, easting = corner(EPSG_PREFIX + "28405")
    assert 5_900_000 < northing < 6_100_000 and 5_300_000 < easting < 5_500_000  # zone 5 prefix in the easting
    easting, northing = corner(EPSG_PREFIX + "32635")
    assert 300_000 < easting < 500_000 and 5_900_000 < northing < 6_100_000


def test_items_page_in_projected_crs_has_every_vertex_transformed(client, lida_buildings):
    response = client.get("/ogc/collections/lida-buildings/items", {"crs": EPSG_PREFIX + "32635"})
    assert response["Content-Crs"] == f"<{EPSG_PREFIX}32635>"
    to_utm = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:32635", always_xy=True)
    for feature in response.json()["features"]:
        served = shape(feature["geometry"])
        stored = client.get(f"/ogc/collections/lida-buildings/items/{feature['id'].replace('/', '%2F')}").json()
        expected = shapely.transform(shape(stored["geometry"]), lambda xy: list(zip(*to_utm.transform(*xy.T), strict=True)))
        assert served.equals_exact(expected, tolerance=1e-3)


def test_bbox_crs_epsg4326_is_latitude_first(client, lida_buildings):
    # Only b1 (25.30-25.31 E, 53.89-53.90 N); the same numbers as lon/lat would select nothing.
    response = client.get(
        "/ogc/collections/lida-buildings/items", {"bbox": "53.891,25.301,53.899,25.309", "bbox-crs": EPSG_PREFIX + "4326"}
    )
    assert response.status_code == 200
    assert [f["id"] for f in response.json()["features"]] == ["b1"]


def test_bbox_crs_gauss_kruger_northing_first(client, lida_buildings):
    to_gk = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:28405")
    n1, e1 = to_gk.transform(53.891, 25.301)
    n2, e2 = to_gk.transform(53.899, 25.309)
    bbox = f"{min(n1, n2)},{min(e1, e2)},{max(n1, n2)},{max(e1, e2)}"
    response = client.get("/ogc/collections/lida-buildings/items", {"bbox": bbox, "bbox-crs": EPSG_PREFIX + "28405"})
    assert [f["id"] for f in response.json()["features"]] == ["b1"]


@pytest.fixture
def points_under_a_curved_utm_edge(make_layer):
    """Two points 10 m either side of the middle of the top edge of a 400 km wide UTM 35N box.

    A straight line of constant northing bulges north in longitude/latitude, so the middle of
    the edge lies ~1 km north of its corners: a box transformed as two corners misses `inside`.
    """
    to_lonlat = pyproj.Transformer.from_crs("EPSG:32635", "EPSG:4326", always_xy=True)
    points: list[tuple[str, str, dict[str, object]]] = []
    for fid, northing in (("inside", 5_979_990), ("outside", 5_980_010)):
        lon, lat = to_lonlat.transform(500_000, northing)
        points.append((fid, f"POINT({lon:.9f} {lat:.9f})", {}))
    return make_layer("minsk", "addresses", "addresses", points)


def test_bbox_crs_box_is_transformed_as_an_area(client, points_under_a_curved_utm_edge):
    bbox = "300000,5950000,700000,5980000"
    response = client.get("/ogc/collections/minsk-addresses/items", {"bbox": bbox, "bbox-crs": EPSG_PREFIX + "32635"})
    assert [f["id"] for f in response.json()["features"]] == ["inside"]


@pytest.mark.parametrize(
    "query, parameter",
    [
        ({"crs": "EPSG:9999"}, "crs"),
        ({"crs": EPSG_PREFIX + "2180"}, "crs"),  # a real CRS, but not offered for Belarus
        ({"crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS83"}, "crs"),
        ({"bbox": "1,2,3,4", "bbox-crs": "nonsense"}, "bbox-crs"),
        ({"bbox": "25.3,53.9,25.2,54", "bbox-crs": EPSG_PREFIX + "4326"}, "bbox"),  # lat 25.3 > 25.2
        ({"bbox": "95,20,96,21", "bbox-crs": EPSG_PREFIX + "4326"}, "bbox"),  # latitude 95
    ],
)
def test_unknown_or_bad_crs_answers_400_never_crs84(client, lida_buildings, query, parameter):
    response = client.get("/ogc/collections/lida-buildings/items", query)
    assert response.status_code == 400
    assert response.json()["parameter"] == parameter


def test_item_unknown_crs_answers_400(client, lida_buildings):
    response = client.get("/ogc/collections/lida-buildings/items/b1", {"crs": "EPSG:4326"})
    assert response.status_code == 400 and response.json()["parameter"] == "crs"


def test_safe_curie_names_the_same_crs(client, lida_buildings):
    response = client.get("/ogc/collections/lida-buildings/items/b1", {"crs": "[EPSG:4326]"})
    assert response["Content-Crs"] == f"<{EPSG_PREFIX}4326>"
    assert response.json()["geometry"]["coordinates"][0][0] == [53.89, 25.3]


@pytest.mark.parametrize(
    "query, parameter",
    [
        ({"bbox": "1e20,1e20,2e20,2e20", "bbox-crs": EPSG_PREFIX + "28405"}, "bbox"),
        ({"filter": "S_INTERSECTS(geometry, POINT(1e20 1e20))", "filter-crs": EPSG_PREFIX + "32635"}, "filter"),
    ],
)
def test_coordinates_outside_the_crs_answer_400(client, lida_buildings, query, parameter):
    response = client.get("/ogc/collections/lida-buildings/items", query)
    assert response.status_code == 400, response.content
    assert response.json()["parameter"] == parameter
    # The request's transaction survives: the next query still works.
    assert client.get("/ogc/collections/lida-buildings/items/b1").status_code == 200
