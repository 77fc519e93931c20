"""config/loader.py: the shipped configuration loads; a broken copy fails naming file, key path and problem."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from config.loader import CONFIG_DIR, LANGUAGES, ConfigError, load_config

CITY_SLUGS = [
    "minsk",
    "brest",
    "vitsyebsk",
    "homyel",
    "hrodna",
    "mahilyow",
    "orsha",
    "baranavichy",
    "pinsk",
    "navapolatsk",
    "polatsk",
    "mazyr",
    "lida",
    "barysaw",
    "salihorsk",
    "maladzyechna",
    "babruysk",
]
REQUIRED_THEMES = ("roads", "buildings", "utilities", "boundaries")
GEOPORTAL = Path(sys.executable).parent / "geoportal"


def test_shipped_config_has_the_17_cities_in_order() -> None:
    config = load_config()
    assert [c.slug for c in config.cities] == CITY_SLUGS
    assert config.sample_city is not None and config.sample_city.is_sample
    assert config.city("minsk") is config.cities[0]


def test_every_city_has_three_names_and_a_centre_inside_its_extent() -> None:
    for city in load_config().cities:
        assert all(city.name[lang].strip() for lang in LANGUAGES), city.slug
        minx, miny, maxx, maxy = city.extent
        lon, lat = city.centre
        assert minx <= lon <= maxx and miny <= lat <= maxy, city.slug
        # Belarus lies within 23-33 E, 51-57 N: a swapped lon/lat would land far outside.
        assert 23 <= lon <= 33 and 51 <= lat <= 57, city.slug


def test_required_themes_are_configured() -> None:
    themes = load_config().themes
    for slug in REQUIRED_THEMES:
        assert themes[slug].slug == slug
        assert themes[slug].attributes and themes[slug].style
        assert all(themes[slug].title[lang] for lang in LANGUAGES)


# --- broken copies ------------------------------------------------------------------------------------------


@pytest.fixture
def config_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped config/ directory (YAML files only)."""
    target = tmp_path / "config"
    (target / "themes").mkdir(parents=True)
    shutil.copy(CONFIG_DIR / "cities.yaml", target / "cities.yaml")
    for theme in (CONFIG_DIR / "themes").glob("*.yaml"):
        shutil.copy(theme, target / "themes" / theme.name)
    return target


def _edit_yaml(path: Path, change: Callable[[Any], None]) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _set(key: str, value: Any, index: int = 0) -> Callable[[Any], None]:
    def change(data: Any) -> None:
        data["cities"][index][key] = value

    return change


def _drop(key: str) -> Callable[[Any], None]:
    def change(data: Any) -> None:
        del data["cities"][0][key]

    return change


CITY_ERRORS = {
    "unknown_key": (_set("colour", "red"), "cities[0].colour", "unknown key"),
    "missing_key": (_drop("population"), "cities[0].population", "required key is missing"),
    "wrong_type": (_set("population", "many"), "cities[0].population", "expected an integer, found 'many'"),
    "bad_slug": (_set("slug", "Minsk-City"), "cities[0].slug", "expected a lower-case ASCII slug"),
    "duplicate_slug": (_set("slug", "minsk", index=1), "cities[1].slug", "duplicate city slug 'minsk'"),
    "centre_outside_extent": (_set("centre", [10.0, 10.0]), "cities[0].centre", "lies outside the extent"),
    "name_without_belarusian": (_set("name", {"ru": "Минск", "en": "Minsk"}), "cities[0].name.be", "required key is missing"),
}


@pytest.mark.parametrize("case", CITY_ERRORS)
def test_invalid_cities_file_names_file_key_and_problem(config_copy: Path, case: str) -> None:
    change, key, problem = CITY_ERRORS[case]
    path = config_copy / "cities.yaml"
    _edit_yaml(path, change)
    with pytest.raises(ConfigError) as info:
        load_config(config_copy)
    assert (info.value.path, info.value.key) == (path, key)
    assert str(info.value).startswith(f"{path}: {key}: ") and problem in str(info.value)


def test_broken_yaml_names_file_and_line(config_copy: Path) -> None:
    path = config_copy / "cities.yaml"
    path.write_text("cities:\n  - slug: minsk\n    name: {be: Мінск, ru: Минск\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"cities\.yaml: line \d+, column \d+: not valid YAML") as info:
        load_config(config_copy)
    assert info.value.path == path


def test_theme_slug_must_match_its_file_name(config_copy: Path) -> None:
    path = config_copy / "themes" / "roads.yaml"
    _edit_yaml(path, lambda data: data.__setitem__("slug", "streets"))
    with pytest.raises(ConfigError, match="must match the file name 'roads', found 'streets'") as info:
        load_config(config_copy)
    assert (info.value.path, info.value.key) == (path, "slug")


def test_theme_with_unknown_attribute_type_names_the_attribute(config_copy: Path) -> None:
    path = config_copy / "themes" / "buildings.yaml"
    _edit_yaml(path, lambda data: data["attributes"][0].__setitem__("type", "text"))
    with pytest.raises(ConfigError, match=r"attributes\[0\]\.type: expected one of string, integer") as info:
        load_config(config_copy)
    assert info.value.path == path


def test_shipped_themes_place_utilities_and_buildings_in_time() -> None:
    themes = load_config().themes
    assert themes["utilities"].temporal is not None and themes["utilities"].temporal.instant == "installed"
    assert themes["buildings"].temporal is not None and themes["buildings"].temporal.instant == "construction_date"
    for slug in ("utilities", "buildings"):
        temporal = themes[slug].temporal
        assert temporal is not None
        attribute = themes[slug].attribute(temporal.attributes[0])
        assert attribute is not None and attribute.type == "date"
    assert themes["buildings"].attribute("year_built").type == "integer"  # type: ignore[union-attr]


def _temporal(value: Any) -> Callable[[Any], None]:
    def change(data: Any) -> None:
        data["temporal"] = value

    return change


TEMPORAL_ERRORS = {
    "unknown_key": (_temporal({"instant": "installed", "zone": "UTC"}), "temporal.zone", "unknown key"),
    "not_a_mapping": (_temporal("installed"), "temporal", "expected a mapping, found str"),
    "no_such_attribute": (_temporal({"instant": "laid_on"}), "temporal.instant", "names no attribute of this theme: 'laid_on'"),
    "wrong_attribute_type": (_temporal({"instant": "diameter_mm"}), "temporal.instant", "has type 'integer'; expected date"),
    "name_not_text": (_temporal({"instant": 2019}), "temporal.instant", "expected an attribute name, found 2019"),
    "instant_and_start": (_temporal({"instant": "installed", "start": "installed"}), "temporal", "not both"),
    "start_without_end": (_temporal({"start": "installed"}), "temporal", "expected {instant: attribute}"),
    "same_start_and_end": (_temporal({"start": "installed", "end": "installed"}), "temporal.end", "use 'instant'"),
}


@pytest.mark.parametrize("case", TEMPORAL_ERRORS)
def test_invalid_temporal_key_names_file_key_and_problem(config_copy: Path, case: str) -> None:
    change, key, problem = TEMPORAL_ERRORS[case]
    path = config_copy / "themes" / "utilities.yaml"
    _edit_yaml(path, change)
    with pytest.raises(ConfigError) as info:
        load_config(config_copy)
    assert (info.value.path, info.value.key) == (path, key)
    assert problem in str(info.value)


def test_temporal_interval_of_two_date_attributes_loads(config_copy: Path) -> None:
    path = config_copy / "themes" / "utilities.yaml"

    def change(data: Any) -> None:
        retired = dict(data["attributes"][-1], name="retired", synonyms=["retired"])
        data["attributes"].append(retired)
        data["temporal"] = {"start": "installed", "end": "retired"}

    _edit_yaml(path, change)
    temporal = load_config(config_copy).themes["utilities"].temporal
    assert temporal is not None and (temporal.instant, temporal.start, temporal.end) == (None, "installed", "retired")


def test_geoportal_check_reports_invalid_config_without_traceback(config_copy: Path) -> None:
    path = config_copy / "cities.yaml"
    _edit_yaml(path, _set("colour", "red"))
    environ = {**os.environ, "GEOPORTAL_CONFIG_DIR": str(config_copy)}
    result = subprocess.run([str(GEOPORTAL), "check"], env=environ, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert f"{path}: cities[0].colour: unknown key" in result.stderr
    assert "Traceback" not in result.stderr


def test_geoportal_check_passes_with_the_shipped_config() -> None:
    environ = {k: v for k, v in os.environ.items() if k != "GEOPORTAL_CONFIG_DIR"}
    result = subprocess.run([str(GEOPORTAL), "check"], env=environ, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "System check identified" in result.stdout + result.stderr and "ERRORS:" not in result.stderr


# --- docker/: no docker engine in CI, so check what can be checked without one ----------------------------

DOCKER_DIR = CONFIG_DIR.parent / "docker"


def test_compose_file_requires_secrets_and_wires_the_services() -> None:
    compose = yaml.safe_load((DOCKER_DIR / "compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert services["postgis"]["image"].startswith("postgis/postgis:15-") and "healthcheck" in services["postgis"]
    app_env = services["app"]["environment"]
    # `${VAR:?message}`: compose refuses to start without the variable; there is no default secret.
    assert app_env["GEOPORTAL_SECRET_KEY"].startswith("${GEOPORTAL_SECRET_KEY:?")
    assert app_env["DATABASE_URL"].startswith("postgresql://geoportal:${POSTGRES_PASSWORD:?")
    assert app_env["DATABASE_URL"].endswith("@postgis:5432/geoportal")
    assert services["app"]["depends_on"]["postgis"]["condition"] == "service_healthy"
    assert "static:/srv/static:ro" in services["nginx"]["volumes"]
    assert "static:/var/lib/geoportal/static" in services["app"]["volumes"]


def test_nginx_config_passes_nginx_t(tmp_path: Path) -> None:
    nginx = shutil.which("nginx", path=f"{os.environ.get('PATH', '')}:/usr/sbin")
    if nginx is None:
        pytest.skip("nginx is not installed (apt-get install nginx-light to run this check)")
    # Point the container paths at tmp_path and the upstream at an address that resolves outside compose.
    text = (DOCKER_DIR / "nginx.conf").read_text(encoding="utf-8")
    for container_path, local in (
        ("server app:8000", "server 127.0.0.1:8000"),
        ("/srv/static/", f"{tmp_path}/static/"),
        ("/var/cache/nginx/tiles", f"{tmp_path}/cache"),
        ("/var/run/nginx.pid", f"{tmp_path}/nginx.pid"),
        ("user www-data;", "" if os.geteuid() else "user www-data;"),
    ):
        assert container_path in text
        text = text.replace(container_path, local)
    (tmp_path / "static").mkdir()
    conf = tmp_path / "nginx.conf"
    conf.write_text(text, encoding="utf-8")
    result = subprocess.run(
        [nginx, "-t", "-c", str(conf), "-e", str(tmp_path / "error.log")], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr
