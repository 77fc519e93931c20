"""Formats, encodings and CRS detection on real awkward files and files made with ogr2ogr."""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management.base import CommandError
from django.db import connection

from layers.models import ImportRun, Layer, Visibility
from tests.conftest import real_file
from tests.ingest.conftest import Feature, ogr2ogr, square, write_geojson

CliRunner = Callable[..., str]
ORIGINAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "belarus" / "original"
GWR = ORIGINAL / "minsk_gwr_shapefiles"


def last_run() -> ImportRun:
    return ImportRun.objects.order_by("-id").first()  # type: ignore[return-value]


def stored_props(layer_id: int | None) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT properties FROM layers_feature WHERE layer_id = %s ORDER BY id", [layer_id])
        return [row[0] if isinstance(row[0], dict) else __import__("json").loads(row[0]) for row in cursor.fetchall()]


@pytest.fixture
def tab_separated_file_named_csv() -> Path:
    return real_file(ORIGINAL / "osmbelarus_databases" / "Cyhunka.csv")


def test_tab_separated_csv_is_refused_without_crs_then_read_as_lonlat(
    ingest_cli: CliRunner, tab_separated_file_named_csv: Path
) -> None:
    with pytest.raises(CommandError, match=r"declares no CRS.*land in Belarus if read as: EPSG:4326"):
        ingest_cli(tab_separated_file_named_csv, "--city", "belarus", "--theme", "addresses", "--layer", "stations")
    out = ingest_cli(
        tab_separated_file_named_csv, "--city", "belarus", "--theme", "addresses", "--layer", "stations", "--crs", "4326"
    )
    run = last_run()
    assert (run.status, run.driver, run.read, run.skipped) == ("succeeded", "CSV", 953, 2)
    assert run.inserted == 951 and "951 features written" in out
    assert any("point at 0,0" in w and "630" in w and "948" in w for w in run.warnings)
    first = stored_props(run.layer_id)[0]
    assert first["Па-беларуску правільнае"] == "Бараўцы" and first["OSM:NodeID"] == 2060086365


@pytest.fixture
def semicolon_csv_with_bom_named_txt() -> Path:
    return real_file(ORIGINAL / "minsktrans" / "stops.txt")


def test_semicolon_csv_with_bom_and_txt_extension_is_parsed(
    ingest_cli: CliRunner, semicolon_csv_with_bom_named_txt: Path
) -> None:
    # Lng/Lat are integers ×1e5: GDAL read the semicolon columns (after the BOM) as x/y, and no usual CRS fits them.
    with pytest.raises(CommandError, match=r"declares no CRS.*x 2\.7\d+e\+06–2\.7\d+e\+06.*may be scaled"):
        ingest_cli(semicolon_csv_with_bom_named_txt, "--city", "minsk", "--theme", "addresses", "--layer", "stops")


def test_csv_with_wkt_column_and_cp1251_is_decoded(ingest_cli: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "wkt_cp1251.csv"
    path.write_bytes('WKT,Назва\n"POINT (27.55 53.9)",Вуліца Леніна\n'.encode("cp1251"))
    ingest_cli(path, "--city", "minsk", "--theme", "addresses", "--crs", "EPSG:4326")
    run = last_run()
    assert run.encoding == "cp1251 (detected)"
    assert stored_props(run.layer_id) == [{"name": "Вуліца Леніна"}]


@pytest.fixture
def legacy_crs_member_geojson() -> Path:
    return real_file(ORIGINAL / "geoboundaries_schikita" / "geoBoundaries-BLR-ADM2.geojson")


def test_geojson_legacy_crs_member_is_honoured(ingest_cli: CliRunner, legacy_crs_member_geojson: Path) -> None:
    ingest_cli(legacy_crs_member_geojson, "--city", "belarus", "--theme", "boundaries", "--transform", "geoboundaries")
    run = last_run()
    assert (run.status, run.inserted) == ("succeeded", 119) and run.source_crs in ("OGC:CRS84", "EPSG:4326")
    names = {p["name"] for p in stored_props(run.layer_id)}
    assert "Жлобин" in names
    with connection.cursor() as cursor:  # the import rebuilt the layer's search rows in its transaction
        cursor.execute("SELECT count(*) FROM layers_searchentry WHERE layer_id = %s AND label = 'Жлобин'", [run.layer_id])
        assert cursor.fetchone()[0] >= 1
    extent = Layer.objects.get(pk=run.layer_id).extent.extent  # type: ignore[union-attr,misc]
    assert 23.0 < extent[0] < 24.0 and 51.0 < extent[1] < 52.0  # lon/lat, not swapped


@pytest.fixture
def lying_prj_shapefile() -> Path:
    return real_file(GWR / "voronoi_m17.shp")


def test_prj_contradicting_the_coordinates_is_reported_with_the_fix(ingest_cli: CliRunner, lying_prj_shapefile: Path) -> None:
    args = (lying_prj_shapefile, "--city", "minsk", "--theme", "boundaries", "--layer", "voronoi")
    with pytest.raises(CommandError, match=r"UTM zone 35N\) is in metres, but the coordinates .* are degrees.*--crs EPSG:4326"):
        ingest_cli(*args)
    assert last_run().status == "failed" and not Layer.objects.filter(slug="voronoi").exists()
    ingest_cli(*args, "--crs", "EPSG:4326")
    run = last_run()
    assert (run.status, run.inserted) == ("succeeded", 4275)
    assert any("--crs EPSG:4326 overrides the file's CRS EPSG:32635" in w for w in run.warnings)


@pytest.fixture
def cp1251_shapefile_without_cpg(tmp_path: Path) -> Path:
    source = write_geojson(tmp_path / "src.geojson", [(1, square(27.55, 53.9), {"Назва": "Палац Рэспублікі"})])
    shp = tmp_path / "cp1251_no_cpg.shp"
    ogr2ogr("-f", "ESRI Shapefile", "-lco", "ENCODING=CP1251", shp, source)
    shp.with_suffix(".cpg").unlink()
    return shp


def test_shapefile_without_cpg_has_its_encoding_detected(ingest_cli: CliRunner, cp1251_shapefile_without_cpg: Path) -> None:
    ingest_cli(cp1251_shapefile_without_cpg, "--city", "minsk", "--theme", "buildings")
    run = last_run()
    assert run.encoding == "cp1251 (detected)"
    assert stored_props(run.layer_id) == [{"name": "Палац Рэспублікі"}]
    ingest_cli(cp1251_shapefile_without_cpg, "--city", "minsk", "--theme", "buildings", "--encoding", "cp866", "--force")
    assert last_run().encoding == "cp866 (--encoding)"
    assert "Палац Рэспублікі" not in stored_props(last_run().layer_id)[0].values()  # what was asked for, however wrong


def test_zipped_shapefile_with_cyrillic_names(ingest_cli: CliRunner, tmp_path: Path) -> None:
    archive = tmp_path / "вада.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for part in real_file(GWR / "Источники_водоснабжения.shp").parent.glob("Источники_водоснабжения.*"):
            zf.write(part, f"дадзеныя/{part.name}")
    ingest_cli(archive, "--city", "minsk", "--theme", "buildings", "--layer", "water")
    run = last_run()
    assert run.status == "succeeded" and run.source_name.startswith("вада.zip/Источники_водоснабжения.shp")


@pytest.fixture
def two_layer_geopackage(tmp_path: Path) -> Path:
    gpkg = tmp_path / "two.gpkg"
    a = write_geojson(tmp_path / "a.geojson", [(1, square(27.55, 53.9), {"name": "A"})])
    b = write_geojson(tmp_path / "b.geojson", [(1, square(27.56, 53.9), {"name": "B"}), (2, square(27.57, 53.9), {})])
    ogr2ogr("-f", "GPKG", gpkg, a, "-nln", "old_town")
    ogr2ogr("-f", "GPKG", "-update", gpkg, b, "-nln", "new_town")
    return gpkg


def test_geopackage_all_layers_become_separate_layers(ingest_cli: CliRunner, two_layer_geopackage: Path) -> None:
    out = ingest_cli(two_layer_geopackage, "--city", "minsk", "--theme", "buildings", "--all-layers")
    counts = dict(Layer.objects.filter(city__slug="minsk").values_list("slug", "feature_count"))
    assert counts == {"buildings_old_town": 1, "buildings_new_town": 2}
    assert "minsk-buildings_new_town: version 1" in out


@pytest.mark.parametrize(
    ("driver", "suffix", "extra"),
    [
        ("KML", ".kml", ()),
        ("GML", ".gml", ()),
        ("FlatGeobuf", ".fgb", ()),
        ("GeoJSONSeq", ".geojsonl", ()),
        ("GPX", ".gpx", ("-nlt", "MULTILINESTRING", "-nln", "tracks", "-dsco", "GPX_USE_EXTENSIONS=YES")),
        ("DXF", ".dxf", ()),
    ],
)
def test_line_formats_through_gdal(ingest_cli: CliRunner, tmp_path: Path, driver: str, suffix: str, extra: tuple) -> None:
    line = {"type": "LineString", "coordinates": [[27.55, 53.9], [27.56, 53.91]]}
    source = write_geojson(tmp_path / "src.geojson", [(1, line, {"name": "вуліца"})])
    target = tmp_path / f"roads{suffix}"
    ogr2ogr("-f", driver, target, source, *extra)
    args: list[str] = ["--city", "minsk", "--theme", "roads", "--skip-other-geometries"]
    if driver == "GPX":
        args += ["--source-layer", "tracks"]
    if driver == "DXF":
        args += ["--crs", "EPSG:4326"]  # DXF carries no CRS
    ingest_cli(target, *args)
    run = last_run()
    assert (run.status, run.inserted) == ("succeeded", 1), run.warnings
    with connection.cursor() as cursor:
        cursor.execute("SELECT ST_AsText(geom) FROM layers_feature WHERE layer_id = %s", [run.layer_id])
        assert cursor.fetchone()[0] == "MULTILINESTRING((27.55 53.9,27.56 53.91))"


def test_kmz_is_unpacked_and_read(ingest_cli: CliRunner, tmp_path: Path) -> None:
    source = write_geojson(tmp_path / "src.geojson", [(1, square(27.55, 53.9), {"name": "Будынак"})])
    kml = tmp_path / "doc.kml"
    ogr2ogr("-f", "KML", kml, source)
    kmz = tmp_path / "buildings.kmz"
    with zipfile.ZipFile(kmz, "w") as zf:
        zf.write(kml, "doc.kml")
    ingest_cli(kmz, "--city", "minsk", "--theme", "buildings")
    run = last_run()
    assert (run.status, run.inserted, run.format) == ("succeeded", 1, "KML")
    assert shutil.which("ogr2ogr")


@pytest.fixture
def brest_building_in_a_minsk_file(tmp_path: Path) -> Path:
    rows: list[Feature] = [(1, square(27.55, 53.9), {"name": "Minsk"}), (2, square(23.7, 52.1), {"name": "Brest"})]
    return write_geojson(tmp_path / "far_away.geojson", rows)


def test_features_far_outside_the_city_are_flagged(ingest_cli: CliRunner, brest_building_in_a_minsk_file: Path) -> None:
    out = ingest_cli(brest_building_in_a_minsk_file, "--city", "minsk", "--theme", "buildings")
    run = last_run()
    assert run.inserted == 2 and "feature 2: far outside the city's extent" in out


def test_local_crs_by_name_and_z_values_dropped_with_a_warning(ingest_cli: CliRunner, tmp_path: Path) -> None:
    point_z = {"type": "Point", "coordinates": [540000.0, 5975000.0, 212.5]}
    source = write_geojson(tmp_path / "z.geojson", [(None, point_z, {"housenumber": "1"})])
    shp = tmp_path / "addresses_z_no_prj.shp"
    ogr2ogr("-f", "ESRI Shapefile", shp, source)
    shp.with_suffix(".prj").unlink(missing_ok=True)
    out = ingest_cli(shp, "--city", "minsk", "--theme", "addresses", "--crs", "utm35")  # Minsk's registered local CRS
    run = last_run()
    assert (run.status, run.source_crs) == ("succeeded", "EPSG:32635")
    assert "Z/M values dropped" in out
    with connection.cursor() as cursor:
        cursor.execute("SELECT ST_NDims(geom), ST_X(geom) FROM layers_feature WHERE layer_id = %s", [run.layer_id])
        dims, lon = cursor.fetchone()
    assert dims == 2 and 27.0 < lon < 28.0


@pytest.fixture
def gpkg_float32_fields(tmp_path: Path) -> Path:
    """A GeoPackage whose height and area are 4-byte FLOAT columns (as ogr2ogr writes PostgreSQL `real`)."""
    import numpy as np
    import pyogrio.raw
    import shapely

    gpkg = tmp_path / "float32.gpkg"
    boxes = [shapely.box(27.55 + i * 0.002, 53.90, 27.551 + i * 0.002, 53.901) for i in range(3)]
    pyogrio.raw.write(
        gpkg,
        geometry=shapely.to_wkb(boxes),
        field_data=[np.array([36.6, 15.8, 3.0], dtype=np.float32), np.array([507.4, 468.5, 0.1], dtype=np.float32)],
        fields=["height", "area_m2"],
        crs="EPSG:4326",
        driver="GPKG",
        geometry_type="Polygon",
    )
    return gpkg


def test_float32_columns_keep_the_values_the_source_shows(ingest_cli: CliRunner, gpkg_float32_fields: Path, client: Any) -> None:
    """36.6 in a FLOAT column is stored and served as 36.6, not as its widening 36.599998474121094."""
    import pyogrio

    assert list(pyogrio.read_info(gpkg_float32_fields)["dtypes"]) == ["float32", "float32"]  # really 4-byte floats
    ingest_cli(gpkg_float32_fields, "--city", "minsk", "--theme", "buildings", "--layer", "heights")
    layer = Layer.objects.get(city__slug="minsk", slug="heights")
    layer.visibility = Visibility.PUBLIC
    layer.save(update_fields=["visibility"])
    assert [(p["height"], p["area_m2"]) for p in stored_props(layer.id)] == [(36.6, 507.4), (15.8, 468.5), (3, 0.1)]
    text = client.get("/ogc/collections/minsk-heights/items?f=json").content.decode()
    assert '"height": 36.6' in text or '"height":36.6' in text
    assert "36.59999" not in text and "0.10000000149" not in text
