"""Layers whose numbers all came from 4-byte float columns send them as 4-byte MVT floats.

Files are written by GDAL (pyogrio) and imported through the real ingest; the tiles are fetched
from /tiles/ and read at the protobuf level, where a float and a double differ.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyogrio.raw
import pytest
import shapely
from django.test import Client

from geoportal.config import project_config
from ingest.services import LayerOptions, import_file
from layers.models import Feature, Layer
from layers.services_features import feature_save

from .conftest import lonlat_in_tile, raw_layer, tile_of

Z = 16
X, Y = tile_of(25.30, 53.89, Z)
CID = "lida-heights"
PUBLIC = LayerOptions(visibility="public")


@pytest.fixture(autouse=True)
def registered_cities(cities: Any) -> Any:
    return cities


def _squares(count: int) -> list[Any]:
    """`count` small squares side by side inside tile Z/X/Y."""
    squares = []
    for index in range(count):
        (x0, y0), (x1, y1) = lonlat_in_tile(Z, X, Y, 0.1 + 0.2 * index, 0.5), lonlat_in_tile(Z, X, Y, 0.2 + 0.2 * index, 0.4)
        squares.append(shapely.box(x0, y0, x1, y1))
    return squares


def write_gpkg(path: Path, columns: dict[str, np.ndarray]) -> Path:
    count = len(next(iter(columns.values())))
    pyogrio.raw.write(
        path,
        geometry=shapely.to_wkb(_squares(count)),
        field_data=list(columns.values()),
        fields=list(columns),
        crs="EPSG:4326",
        driver="GPKG",
        geometry_type="Polygon",
    )
    return path


@pytest.fixture
def gpkg_float32_heights(tmp_path: Path) -> Path:
    return write_gpkg(
        tmp_path / "float32.gpkg",
        {
            "height": np.array([36.6, 15.8, 3.0], dtype=np.float32),
            "area_m2": np.array([507.4, 468.5, 0.1], dtype=np.float32),
            "levels": np.array([12, 5, 1], dtype=np.int32),
            "name": np.array(["A", "B", "C"], dtype=object),
        },
    )


@pytest.fixture
def gpkg_float64_heights(tmp_path: Path) -> Path:
    return write_gpkg(tmp_path / "float64.gpkg", {"height": np.array([36.6, 15.8, 3.25], dtype=np.float64)})


@pytest.fixture
def gpkg_float32_and_float64(tmp_path: Path) -> Path:
    return write_gpkg(
        tmp_path / "mixed.gpkg",
        {"height": np.array([36.6, 15.8], dtype=np.float32), "roof_angle": np.array([30.25, 12.125], dtype=np.float64)},
    )


def imported(path: Path, *, mode: str = "replace", key: str | None = None) -> Layer:
    result = import_file(
        config=project_config(), path=path, city="lida", theme="buildings", layer="heights", options=PUBLIC, mode=mode, key=key
    )
    return result.layer


def tile_values(layer_name: str = CID) -> list[tuple[str, Any]]:
    """The MVT value table of the layer's tile: (kind, value) per entry, as the bytes say."""
    response = Client().get(f"/tiles/{CID}/{Z}/{X}/{Y}.mvt")
    assert response.status_code == 200
    layer = raw_layer(response.content, layer_name)
    entries = [value.ListFields() for value in layer.values]
    assert all(len(fields) == 1 for fields in entries)  # a value holds exactly one of its kinds
    return [(fields[0][0].name, fields[0][1]) for fields in entries]


def test_float32_columns_go_out_as_4_byte_floats(gpkg_float32_heights: Path) -> None:
    layer = imported(gpkg_float32_heights)
    assert layer.single_precision
    values = tile_values()
    floats = sorted(value for kind, value in values if kind == "float_value")
    assert "double_value" not in {kind for kind, _ in values}
    # 3.0 is an integer in JSON, so an integer in the tile; the rest are the source's float32 values.
    assert [str(np.float32(value)) for value in floats] == ["0.1", "15.8", "36.6", "468.5", "507.4"]
    assert {value for kind, value in values if kind == "string_value"} == {"A", "B", "C"}
    assert {value for kind, value in values if kind == "uint_value"} == {1, 3, 5, 12}
    # The API keeps the decimal the source shows.
    stored = sorted(f.properties["height"] for f in Feature.objects.filter(layer=layer))
    assert stored == [3, 15.8, 36.6]


@pytest.mark.parametrize("fixture", ["gpkg_float64_heights", "gpkg_float32_and_float64"])
def test_any_8_byte_float_column_keeps_doubles(fixture: str, request: pytest.FixtureRequest) -> None:
    layer = imported(request.getfixturevalue(fixture))
    assert not layer.single_precision
    kinds = {kind for kind, _ in tile_values()}
    assert "double_value" in kinds and "float_value" not in kinds


def test_appending_8_byte_floats_ends_single_precision(gpkg_float32_heights: Path, gpkg_float64_heights: Path) -> None:
    assert imported(gpkg_float32_heights).single_precision
    layer = imported(gpkg_float64_heights, mode="append")
    assert not layer.single_precision
    assert "double_value" in {kind for kind, _ in tile_values()}
    # A replace import of 4-byte floats brings it back.
    assert imported(gpkg_float32_heights).single_precision


def test_theme_number_read_from_text_is_not_single_precision(tmp_path: Path) -> None:
    """`height` is a number attribute of the buildings theme: "12.25" in a text column becomes a double."""
    path = write_gpkg(
        tmp_path / "text-height.gpkg",
        {"height": np.array(["12.25", "7.5"], dtype=object), "area_m2": np.array([1.5, 2.5], dtype=np.float32)},
    )
    layer = imported(path)
    assert not layer.single_precision
    assert "double_value" in {kind for kind, _ in tile_values()}


def test_an_edit_keeps_single_precision_only_with_numbers_a_float_holds(gpkg_float32_heights: Path) -> None:
    layer = imported(gpkg_float32_heights)
    feature = Feature.objects.filter(layer=layer).order_by("fid").first()
    assert feature is not None
    before = Client().get(f"/tiles/{CID}/{Z}/{X}/{Y}.mvt")["ETag"]

    feature.properties = {**feature.properties, "height": 20.5}
    feature_save(feature=feature)
    layer.refresh_from_db()
    assert layer.single_precision
    assert "double_value" not in {kind for kind, _ in tile_values()}

    feature.properties = {**feature.properties, "height": 20.123456789}  # more digits than a float32 holds
    feature_save(feature=feature)
    layer.refresh_from_db()
    assert not layer.single_precision
    response = Client().get(f"/tiles/{CID}/{Z}/{X}/{Y}.mvt")
    assert response["ETag"] != before
    assert ("double_value", 20.123456789) in tile_values()
