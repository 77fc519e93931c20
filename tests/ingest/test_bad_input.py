"""One test per kind of bad input: a clear error naming file/feature/field, and nothing changed."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.management.base import CommandError

from ingest import safety
from layers.models import ImportRun, Layer
from tests.conftest import real_file
from tests.ingest.conftest import Feature, ogr2ogr, square, write_geojson

CliRunner = Callable[..., str]
ORIGINAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "belarus" / "original"
POINT_KML = """<?xml version="1.0" encoding="UTF-8"?>
{doctype}<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark><name>{name}</name>
<Point><coordinates>27.55,53.9</coordinates></Point></Placemark></Document></kml>
"""


@pytest.fixture
def minsk_buildings_v1(ingest_cli: CliRunner, two_buildings_geojson: Path) -> Layer:
    """An existing layer that every failed import below must leave exactly as it was."""
    ingest_cli(two_buildings_geojson, "--city", "minsk", "--theme", "buildings")
    return Layer.objects.get(city__slug="minsk", slug="buildings")


def refused(
    ingest_cli: CliRunner,
    path: Path,
    pattern: str,
    *args: str,
    layer: Layer | None = None,
    city: str = "minsk",
    theme: str = "buildings",
) -> None:
    """The import fails with `pattern`, its run is recorded as failed, and `layer` (else: no layer) is untouched."""
    with pytest.raises(CommandError, match=pattern):
        ingest_cli(path, "--city", city, "--theme", theme, *args)
    run = ImportRun.objects.order_by("-id").first()
    assert run is not None and run.status == "failed" and run.error
    if layer is None:
        assert not Layer.objects.filter(city__slug=city, slug=theme).exists()
        return
    after = Layer.objects.get(pk=layer.pk)
    assert (after.version, after.feature_count) == (layer.version, layer.feature_count)
    assert after.features.count() == layer.feature_count


@pytest.fixture
def empty_file(tmp_path: Path) -> Path:
    path = tmp_path / "empty.geojson"
    path.write_bytes(b"")
    return path


def test_empty_file(ingest_cli: CliRunner, empty_file: Path, minsk_buildings_v1: Layer) -> None:
    refused(ingest_cli, empty_file, r"empty.geojson: the file is empty \(0 bytes\)", layer=minsk_buildings_v1)


@pytest.fixture
def png_named_geojson(tmp_path: Path) -> Path:
    path = tmp_path / "picture.geojson"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    return path


def test_wrong_extension(ingest_cli: CliRunner, png_named_geojson: Path, minsk_buildings_v1: Layer) -> None:
    refused(
        ingest_cli,
        png_named_geojson,
        r"picture.geojson: cannot be read as vector data .*Expected one of: Shapefile",
        layer=minsk_buildings_v1,
    )


@pytest.fixture
def truncated_shapefile(tmp_path: Path, two_buildings_geojson: Path) -> Path:
    shp = tmp_path / "truncated.shp"
    ogr2ogr("-f", "ESRI Shapefile", shp, two_buildings_geojson)
    data = shp.read_bytes()
    shp.write_bytes(data[: len(data) - 60])  # the second polygon is cut off
    return shp


def test_truncated_shapefile(ingest_cli: CliRunner, truncated_shapefile: Path, minsk_buildings_v1: Layer) -> None:
    refused(ingest_cli, truncated_shapefile, r"truncated.shp", layer=minsk_buildings_v1)


@pytest.fixture
def zip_with_parent_path(tmp_path: Path) -> Path:
    archive = tmp_path / "climbs_out.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../../etc/evil.geojson", "{}")
    return archive


def test_zip_with_parent_path(ingest_cli: CliRunner, zip_with_parent_path: Path, minsk_buildings_v1: Layer) -> None:
    refused(
        ingest_cli, zip_with_parent_path, r"climbs_out.zip: member '../../etc/evil.geojson' .*'\.\.'", layer=minsk_buildings_v1
    )


@pytest.fixture
def zip_with_absolute_path(tmp_path: Path) -> Path:
    archive = tmp_path / "absolute.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        info = zipfile.ZipInfo("x.geojson")
        info.filename = "/tmp/x.geojson"  # ZipInfo strips the slash in its constructor; real tools do not
        zf.writestr(info, "{}")
    return archive


def test_zip_with_absolute_path(ingest_cli: CliRunner, zip_with_absolute_path: Path) -> None:
    refused(ingest_cli, zip_with_absolute_path, r"absolute.zip: member '/tmp/x.geojson' has an absolute path")


@pytest.fixture
def zip_bomb_by_ratio(tmp_path: Path) -> Path:
    archive = tmp_path / "bomb_ratio.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("zeros.geojson", b"\x00" * (24 << 20))
    return archive


def test_zip_bomb_by_ratio(ingest_cli: CliRunner, zip_bomb_by_ratio: Path) -> None:
    refused(ingest_cli, zip_bomb_by_ratio, r"bomb_ratio.zip: zeros.geojson expands \d+× .* zip bomb")


@pytest.fixture
def zip_bomb_by_size(tmp_path: Path, two_buildings_geojson: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(safety, "MAX_UNPACKED_BYTES", 100)  # the real limit is GiBs; the check is the same
    archive = tmp_path / "bomb_size.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(two_buildings_geojson, "b.geojson")
    return archive


def test_zip_bomb_by_size(ingest_cli: CliRunner, zip_bomb_by_size: Path) -> None:
    refused(ingest_cli, zip_bomb_by_size, r"bomb_size.zip: the archive unpacks to \d+ bytes, more than the limit of 100")


@pytest.fixture
def kml_with_external_entity(tmp_path: Path) -> Path:
    path = tmp_path / "xxe.kml"
    doctype = '<!DOCTYPE kml [<!ENTITY secret SYSTEM "file:///etc/passwd">]>\n'
    path.write_text(POINT_KML.format(doctype=doctype, name="&secret;"))
    return path


def test_kml_with_external_entity(ingest_cli: CliRunner, kml_with_external_entity: Path) -> None:
    refused(ingest_cli, kml_with_external_entity, r"xxe.kml: the XML declares entities", theme="addresses")


@pytest.fixture
def gml_with_entity_expansion(tmp_path: Path) -> Path:
    path = tmp_path / "laughs.gml"
    path.write_text('<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>\n<x>&b;</x>\n')
    return path


def test_gml_with_entity_expansion(ingest_cli: CliRunner, gml_with_entity_expansion: Path) -> None:
    refused(ingest_cli, gml_with_entity_expansion, r"laughs.gml: the XML declares entities")


@pytest.fixture
def coordinates_1e300(tmp_path: Path) -> Path:
    huge = {"type": "Point", "coordinates": [1e300, 53.9]}
    return write_geojson(tmp_path / "huge.geojson", [(1, {"type": "Point", "coordinates": [27.5, 53.9]}, {}), (2, huge, {})])


def test_coordinates_1e300(ingest_cli: CliRunner, coordinates_1e300: Path) -> None:
    pattern = r"huge.geojson:huge, feature 2: coordinate \(1e\+300, 53.9\).*not a finite position on Earth"
    refused(ingest_cli, coordinates_1e300, pattern, theme="addresses")


@pytest.fixture
def coordinates_nan(tmp_path: Path) -> Path:
    path = tmp_path / "nan.csv"
    path.write_text('id,wkt\n1,"POINT (27.5 53.9)"\n2,"POINT (nan 53.9)"\n')
    return path


def test_coordinates_nan(ingest_cli: CliRunner, coordinates_nan: Path) -> None:
    pattern = r"nan.csv:nan, feature 2: coordinate \(nan, 53.9\) in the source is not a finite"
    refused(ingest_cli, coordinates_nan, pattern, "--crs", "EPSG:4326", theme="addresses")


@pytest.fixture
def mixed_geometry_types() -> Path:
    return real_file(ORIGINAL / "map-grodno" / "grodno.json")  # 17 Polygons + 1 MultiPolygon + 17 Points


def test_mixed_geometry_types(ingest_cli: CliRunner, mixed_geometry_types: Path) -> None:
    pattern = r"grodno.json:grodno, feature \d+: a Point where the theme expects MultiPolygon"
    refused(ingest_cli, mixed_geometry_types, pattern, city="hrodna", theme="boundaries")


@pytest.fixture
def duplicate_keys(tmp_path: Path) -> Path:
    rows: list[Feature] = [(None, square(27.5, 53.9), {"code": "A1"}), (None, square(27.6, 53.9), {"code": "A1"})]
    return write_geojson(tmp_path / "duplicate_keys.geojson", rows)


def test_duplicate_keys_in_upsert(ingest_cli: CliRunner, duplicate_keys: Path, minsk_buildings_v1: Layer) -> None:
    refused(
        ingest_cli,
        duplicate_keys,
        r"duplicate_keys.geojson:duplicate_keys, feature 1, field 'code': the key field 'code' has duplicate values: 'A1' ×2",
        "--mode",
        "upsert",
        "--key",
        "code",
        layer=minsk_buildings_v1,
    )


def test_key_field_that_does_not_exist(ingest_cli: CliRunner, two_buildings_geojson: Path, minsk_buildings_v1: Layer) -> None:
    refused(
        ingest_cli,
        two_buildings_geojson,
        r"field 'kod': the key field 'kod' does not exist; fields: name, Floors",
        "--mode",
        "sync",
        "--key",
        "kod",
        layer=minsk_buildings_v1,
    )


def test_upsert_without_key(ingest_cli: CliRunner, two_buildings_geojson: Path) -> None:
    with pytest.raises(CommandError, match=r"--mode upsert needs --key FIELD"):
        ingest_cli(two_buildings_geojson, "--city", "minsk", "--theme", "buildings", "--mode", "upsert")
