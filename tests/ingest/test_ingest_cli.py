"""`geoportal ingest` against the real PostGIS with real files: geometry, CRS, mapping, errors, atomic replace."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.management.base import CommandError
from django.db import connection
from pyproj import Transformer

from layers.models import ChangeOp, FeatureChange, ImportRun, ImportStatus, Layer
from tests.conftest import real_file
from tests.ingest.conftest import Feature, ogr2ogr, square, write_geojson

CliRunner = Callable[..., str]
SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
MINSK_WATER = SHARED / "data" / "belarus" / "original" / "minsk_gwr_shapefiles" / "Источники_водоснабжения.shp"


def layer_rows(layer: Layer | None) -> list[tuple[str, str, dict]]:
    """(fid, EWKT, properties) of every stored feature, as PostGIS holds them."""
    assert layer is not None
    with connection.cursor() as cursor:
        cursor.execute("SELECT fid, ST_AsEWKT(geom), properties FROM layers_feature WHERE layer_id = %s ORDER BY id", [layer.pk])
        return [(fid, ewkt, props if isinstance(props, dict) else json.loads(props)) for fid, ewkt, props in cursor.fetchall()]


def last_run() -> ImportRun:
    return ImportRun.objects.order_by("-id").first()  # type: ignore[return-value]


@pytest.fixture
def bowtie_geojson(tmp_path: Path) -> Path:
    bowtie = {"type": "Polygon", "coordinates": [[[27.5, 53.9], [27.51, 53.91], [27.51, 53.9], [27.5, 53.91], [27.5, 53.9]]]}
    return write_geojson(tmp_path / "bowtie.geojson", [(1, bowtie, {"name": "bow-tie"}), (2, square(27.6, 53.9), {"name": "ok"})])


def test_bowtie_polygon_is_repaired_and_counted(ingest_cli: CliRunner, bowtie_geojson: Path) -> None:
    out = ingest_cli(bowtie_geojson, "--city", "minsk", "--theme", "buildings")
    run = last_run()
    assert (run.status, run.read, run.inserted, run.repaired, run.skipped) == ("succeeded", 2, 2, 1, 0)
    assert "repaired 1" in out and "minsk-buildings: version 1" in out
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT fid, ST_IsValid(geom), GeometryType(geom), ST_NumGeometries(geom), ST_SRID(geom) "
            "FROM layers_feature WHERE layer_id = %s ORDER BY fid",
            [run.layer_id],
        )
        assert cursor.fetchall() == [("1", True, "MULTIPOLYGON", 2, 4326), ("2", True, "MULTIPOLYGON", 1, 4326)]
    assert any("feature 1" in w and "repaired" in w for w in run.warnings)


def test_shapefile_in_utm35n_is_reprojected_like_pyproj(ingest_cli: CliRunner, tmp_path: Path) -> None:
    utm_points = [(540000.0, 5975000.0), (530123.4, 5960000.9)]
    source = write_geojson(
        tmp_path / "utm.geojson",
        [(None, {"type": "Point", "coordinates": list(xy)}, {"housenumb": str(i + 1)}) for i, xy in enumerate(utm_points)],
    )
    shp = tmp_path / "addresses_utm.shp"
    ogr2ogr("-f", "ESRI Shapefile", shp, source, "-a_srs", "EPSG:32635")
    ingest_cli(shp, "--city", "minsk", "--theme", "addresses")
    run = last_run()
    assert (run.status, run.format, run.source_crs, run.inserted) == ("succeeded", "Shapefile", "EPSG:32635", 2)
    expected = Transformer.from_crs(32635, 4326, always_xy=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT fid, ST_X(geom), ST_Y(geom) FROM layers_feature WHERE layer_id = %s ORDER BY fid", [run.layer_id])
        stored = cursor.fetchall()
    assert [fid for fid, _x, _y in stored] == ["0", "1"]  # shapefile row numbers
    for (_fid, lon, lat), (x, y) in zip(stored, utm_points, strict=True):
        want_lon, want_lat = expected.transform(x, y)
        assert lon == pytest.approx(want_lon, abs=1e-9) and lat == pytest.approx(want_lat, abs=1e-9)
        assert 27.0 < lon < 28.0 and 53.7 < lat < 54.1


def test_shapefile_without_prj_needs_crs(ingest_cli: CliRunner, tmp_path: Path) -> None:
    source = write_geojson(tmp_path / "p.geojson", [(None, {"type": "Point", "coordinates": [540000.0, 5975000.0]}, {"n": "1"})])
    shp = tmp_path / "no_prj.shp"
    ogr2ogr("-f", "ESRI Shapefile", shp, source, "-a_srs", "EPSG:32635")
    shp.with_suffix(".prj").unlink()
    with pytest.raises(CommandError, match=r"declares no CRS.*land in Minsk if read as: EPSG:32635.*--crs EPSG:32635"):
        ingest_cli(shp, "--city", "minsk", "--theme", "addresses")
    assert last_run().status == ImportStatus.FAILED
    ingest_cli(shp, "--city", "minsk", "--theme", "addresses", "--crs", "EPSG:32635")
    layer = Layer.objects.get(slug="addresses", city__slug="minsk")
    assert layer.extent is not None
    assert 27.0 < layer.extent.extent[0] < 28.0
    with pytest.raises(CommandError, match="--crs 'EPSG:99999999' is not a coordinate reference system"):
        ingest_cli(shp, "--city", "minsk", "--theme", "addresses", "--crs", "EPSG:99999999")


def test_null_geometry_is_skipped_with_its_feature_number(ingest_cli: CliRunner, tmp_path: Path) -> None:
    path = write_geojson(
        tmp_path / "with_null.geojson",
        [(10, square(27.5, 53.9), {"name": "a"}), (11, None, {"name": "no geometry"}), (12, square(27.6, 53.9), {"name": "c"})],
    )
    out = ingest_cli(path, "--city", "minsk", "--theme", "buildings")
    run = last_run()
    assert (run.read, run.inserted, run.skipped) == (3, 2, 1)
    assert "feature 2: no geometry (null or empty) — skipped" in run.warnings
    assert "feature 2: no geometry" in out
    assert [fid for fid, _g, _p in layer_rows(run.layer)] == ["10", "12"]  # GeoJSON ids are the fids


def test_geometries_are_normalised_to_the_theme(ingest_cli: CliRunner, tmp_path: Path) -> None:
    line3d = {"type": "LineString", "coordinates": [[27.5, 53.9, 200.0], [27.51, 53.91, 210.0]]}
    point = {"type": "Point", "coordinates": [27.5, 53.9]}
    multi_one_point = {"type": "MultiPoint", "coordinates": [[27.52, 53.92]]}
    roads = write_geojson(tmp_path / "roads.geojson", [(1, line3d, {"highway": "primary"}), (2, point, {"highway": "x"})])
    with pytest.raises(CommandError, match=r"feature 2.*a Point where the theme expects MultiLineString"):
        ingest_cli(roads, "--city", "minsk", "--theme", "roads")
    ingest_cli(roads, "--city", "minsk", "--theme", "roads", "--skip-other-geometries")
    run = last_run()
    assert (run.inserted, run.skipped) == (1, 1)
    assert "feature 2: a Point cannot be stored as MultiLineString — skipped" in run.warnings
    assert layer_rows(run.layer)[0][1] == "SRID=4326;MULTILINESTRING((27.5 53.9,27.51 53.91))"  # Z dropped
    points = write_geojson(tmp_path / "points.geojson", [(1, multi_one_point, {"housenumber": "1"})])
    ingest_cli(points, "--city", "minsk", "--theme", "addresses")
    assert layer_rows(last_run().layer)[0][1] == "SRID=4326;POINT(27.52 53.92)"


def test_attributes_map_onto_the_theme_with_coercion(ingest_cli: CliRunner, tmp_path: Path) -> None:
    path = write_geojson(
        tmp_path / "attrs.geojson",
        [
            (1, square(27.5, 53.9), {"Назва": "Дом", "ЭТАЖНОСТЬ": "5", "Year": 1962, "Built": "2020-01-02", "note": None}),
            (2, square(27.6, 53.9), {"Назва": "Сарай", "ЭТАЖНОСТЬ": "пять", "Year": None, "Built": None, "note": "x"}),
        ],
    )
    ingest_cli(path, "--city", "minsk", "--theme", "buildings", "--layer", "houses")
    run = last_run()
    (_f1, _g1, first), (_f2, _g2, second) = layer_rows(run.layer)
    assert first == {"name": "Дом", "levels": 5, "year_built": 1962, "Built": "2020-01-02", "note": None}
    assert second["name"] == "Сарай" and second["ЭТАЖНОСТЬ"] == "пять" and "levels" not in second
    assert any("'ЭТАЖНОСТЬ'" in w and "integer" in w and "feature 2" in w for w in run.warnings)
    layer = Layer.objects.get(pk=run.layer.pk)  # type: ignore[union-attr]
    assert layer.collection_id == "minsk-houses"
    assert layer.fields["levels"] == "integer" and layer.fields["name"] == "string" and layer.fields["ЭТАЖНОСТЬ"] == "string"


def test_geopackage_with_two_layers_needs_source_layer(
    ingest_cli: CliRunner, tmp_path: Path, two_buildings_geojson: Path
) -> None:
    gpkg = tmp_path / "two.gpkg"
    ogr2ogr("-f", "GPKG", gpkg, two_buildings_geojson, "-nln", "houses")
    ogr2ogr("-f", "GPKG", "-update", gpkg, two_buildings_geojson, "-nln", "sheds")
    with pytest.raises(CommandError, match=r"has 2 layers: houses, sheds.*--source-layer"):
        ingest_cli(gpkg, "--city", "minsk", "--theme", "buildings")
    with pytest.raises(CommandError, match=r"has no layer 'barns'; layers: houses, sheds"):
        ingest_cli(gpkg, "--city", "minsk", "--theme", "buildings", "--source-layer", "barns")
    ingest_cli(gpkg, "--city", "minsk", "--theme", "buildings", "--source-layer", "sheds")
    run = last_run()
    assert (run.status, run.format, run.source_name, run.inserted) == ("succeeded", "GeoPackage", "two.gpkg:sheds", 2)
    assert [fid for fid, _g, _p in layer_rows(run.layer)] == ["1", "2"]  # GeoPackage fids


def test_corrupt_geopackage_fails_and_leaves_the_layer_as_it_was(
    ingest_cli: CliRunner, tmp_path: Path, two_buildings_geojson: Path
) -> None:
    ingest_cli(two_buildings_geojson, "--city", "minsk", "--theme", "buildings")
    layer = Layer.objects.get(city__slug="minsk", slug="buildings")
    before = (layer.version, layer.feature_count, layer_rows(layer))
    corrupt = tmp_path / "broken.gpkg"
    corrupt.write_text("this is not a GeoPackage\n")
    with pytest.raises(CommandError, match=r"broken.gpkg: cannot be read as vector data"):
        ingest_cli(corrupt, "--city", "minsk", "--theme", "buildings")
    layer.refresh_from_db()
    assert (layer.version, layer.feature_count, layer_rows(layer)) == before
    run = last_run()
    assert run.status == ImportStatus.FAILED and "cannot be read" in run.error and run.finished_at is not None


def test_failure_while_writing_rolls_back_everything(ingest_cli: CliRunner, tmp_path: Path, two_buildings_geojson: Path) -> None:
    """Duplicate ids are only found after staging: the old features and version must survive."""
    ingest_cli(two_buildings_geojson, "--city", "minsk", "--theme", "buildings")
    layer = Layer.objects.get(city__slug="minsk", slug="buildings")
    before = (layer.version, layer_rows(layer))
    dupes = write_geojson(tmp_path / "dupes.geojson", [("a", square(27.5, 53.9), {}), ("a", square(27.6, 53.9), {})])
    with pytest.raises(CommandError, match=r"feature ids are not unique: 'a' ×2"):
        ingest_cli(dupes, "--city", "minsk", "--theme", "buildings")
    layer.refresh_from_db()
    assert (layer.version, layer_rows(layer)) == before
    assert FeatureChange.objects.filter(layer=layer).count() == 1


def test_identical_reimport_is_a_noop(ingest_cli: CliRunner, two_buildings_geojson: Path) -> None:
    ingest_cli(two_buildings_geojson, "--city", "minsk", "--theme", "buildings")
    out = ingest_cli(two_buildings_geojson, "--city", "minsk", "--theme", "buildings")
    layer = Layer.objects.get(city__slug="minsk", slug="buildings")
    assert "unchanged" in out and layer.version == 1
    assert list(ImportRun.objects.filter(layer=layer).order_by("id").values_list("status", "layer_version")) == [
        ("succeeded", 1),
        ("noop", 1),
    ]
    ingest_cli(two_buildings_geojson, "--city", "minsk", "--theme", "buildings", "--force")
    layer.refresh_from_db()
    assert layer.version == 2
    with pytest.raises(CommandError, match="already exists with theme 'buildings', not 'boundaries'"):
        ingest_cli(two_buildings_geojson, "--city", "minsk", "--theme", "boundaries", "--layer", "buildings")


def test_replace_bumps_version_and_records_reset(ingest_cli: CliRunner, tmp_path: Path, two_buildings_geojson: Path) -> None:
    ingest_cli(two_buildings_geojson, "--city", "minsk", "--theme", "buildings", "--visibility", "internal")
    replacement = write_geojson(tmp_path / "replacement.geojson", [(7, square(27.7, 53.95), {"name": "new"})])
    out = ingest_cli(replacement, "--city", "minsk", "--theme", "buildings", "--attribution", "Minsk city")
    layer = Layer.objects.get(city__slug="minsk", slug="buildings")
    assert (layer.version, layer.feature_count, layer.visibility, layer.attribution) == (2, 1, "internal", "Minsk city")
    assert [fid for fid, _g, _p in layer_rows(layer)] == ["7"]
    assert layer.extent is not None
    assert layer.extent.extent == pytest.approx((27.7, 53.95, 27.701, 53.951))
    assert list(FeatureChange.objects.filter(layer=layer).order_by("id").values_list("version", "op")) == [
        (1, ChangeOp.RESET),
        (2, ChangeOp.RESET),
    ]
    assert "minsk-buildings: version 2, 1 features written" in out
    run = last_run()
    assert run.sha256 and run.actor and run.duration_s is not None and run.layer_version == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{missing}", "--city", "minsk", "--theme", "buildings"], "no such file"),
        (["{file}", "--city", "atlantis", "--theme", "buildings"], "City 'atlantis' is not registered. Valid cities: minsk, "),
        (
            ["{file}", "--city", "minsk", "--theme", "castles"],
            "Theme 'castles' is not configured; themes: addresses, boundaries, buildings",
        ),
        (["{file}", "--city", "minsk", "--theme", "buildings", "--layer", "Bad Slug"], "Layer slug 'Bad Slug' is not valid"),
        (["{empty}", "--city", "minsk", "--theme", "buildings"], "has no features"),
    ],
)
def test_bad_arguments_give_one_clear_error(
    ingest_cli: CliRunner, tmp_path: Path, two_buildings_geojson: Path, args: list[str], message: str
) -> None:
    empty = write_geojson(tmp_path / "empty.geojson", [])
    values = {"missing": tmp_path / "nope.gpkg", "file": two_buildings_geojson, "empty": empty}
    with pytest.raises(CommandError) as caught:
        ingest_cli(*[a.format(**values) for a in args])
    assert message in str(caught.value)
    assert not Layer.objects.filter(city__slug="minsk").exists()


def test_real_minsk_shapefile_with_cyrillic_names(ingest_cli: CliRunner, tmp_path: Path) -> None:
    real_file(MINSK_WATER)
    # a copy, so that the test does not depend on the shared file's sidecars staying put
    for part in MINSK_WATER.parent.glob(f"{MINSK_WATER.stem}.*"):
        shutil.copy(part, tmp_path / part.name)
    out = ingest_cli(tmp_path / MINSK_WATER.name, "--city", "minsk", "--theme", "boundaries", "--layer", "water_sources")
    run = last_run()
    assert (run.status, run.read, run.inserted, run.source_crs, run.encoding) == ("succeeded", 3, 3, "EPSG:32635", "UTF-8")
    assert "minsk-water_sources: version 1, 3 features written" in out
    rows = layer_rows(run.layer)
    assert sorted(props["Источ"] for _fid, _g, props in rows) == ["Поверхн", "Подземн", "Смешанн"]
    layer = Layer.objects.get(pk=run.layer.pk)  # type: ignore[union-attr]
    assert layer.extent is not None
    minx, miny, maxx, maxy = layer.extent.extent
    assert 27.2 < minx < maxx < 28.0 and 53.7 < miny < maxy < 54.1, layer.extent.extent
    assert os.path.basename(run.source_name).startswith("Источники_водоснабжения.shp:")


def test_small_batches_keep_feature_numbers_and_counts(cities: object, tmp_path: Path) -> None:
    """Read two rows at a time: numbering, skips and repairs must add up across batches."""
    from geoportal.config import project_config
    from ingest.services import import_file

    bowtie = {"type": "Polygon", "coordinates": [[[27.5, 53.9], [27.51, 53.91], [27.51, 53.9], [27.5, 53.91], [27.5, 53.9]]]}
    features: list[Feature] = [(i, square(27.5 + i / 100, 53.9), {"n": i}) for i in range(1, 8)]
    features[3] = (4, None, {"n": 4})
    features[5] = (6, bowtie, {"n": 6})
    path = write_geojson(tmp_path / "seven.geojson", features)
    result = import_file(config=project_config(), path=path, city="minsk", theme="buildings", batch_size=2)
    assert (result.counts.read, result.counts.written, result.counts.skipped, result.counts.repaired) == (7, 6, 1, 1)
    assert "feature 4: no geometry (null or empty) — skipped" in result.warnings
    assert "feature 6: invalid geometry repaired (make_valid)" in result.warnings
    assert [p["n"] for _f, _g, p in layer_rows(result.layer)] == [1, 2, 3, 5, 6, 7]
