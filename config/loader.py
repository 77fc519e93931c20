"""Strict loader for the cities and themes configuration files.

The configuration is data that every other part of the system trusts, so it is
validated once, fully, at start-up: an unknown key, a missing key or a value of
the wrong type stops the process with a message naming the file, the key path
and what was expected. Nothing here imports Django: `config/` is the bottom of
the dependency chain.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

CONFIG_DIR = Path(__file__).resolve().parent
LANGUAGES = ("be", "ru", "en")
GEOMETRY_TYPES = ("Point", "MultiPoint", "LineString", "MultiLineString", "MultiPolygon")
ATTRIBUTE_TYPES = ("string", "integer", "number", "boolean", "date", "datetime")
SLUG_RE = re.compile(r"^[a-z][a-z0-9_]*$")
CITY_SLUG_RE = re.compile(r"^[a-z][a-z0-9]*$")  # no '-': collection ids are '{city}-{layer}'
ATTRIBUTE_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")


class ConfigError(Exception):
    """A configuration file is invalid; the message names file, key and problem."""

    def __init__(self, path: Path, key: str, problem: str) -> None:
        self.path = path
        self.key = key
        self.problem = problem
        super().__init__(f"{path}: {key or '(top level)'}: {problem}")


@dataclass(frozen=True)
class LocalCrs:
    name: str
    title: str
    srid: int


@dataclass(frozen=True)
class CityConfig:
    slug: str
    name: Mapping[str, str]
    oblast: Mapping[str, str]
    population: int
    population_year: int
    centre: tuple[float, float]
    extent: tuple[float, float, float, float]
    local_crs: tuple[LocalCrs, ...]
    is_sample: bool = False


@dataclass(frozen=True)
class AttributeConfig:
    name: str
    type: str
    title: Mapping[str, str]
    unit: str | None
    enum: tuple[Any, ...] | None
    required: bool
    synonyms: tuple[str, ...]


@dataclass(frozen=True)
class TemporalConfig:
    """The attribute(s) that place a theme's features in time: an instant, or an interval start/end."""

    instant: str | None = None
    start: str | None = None
    end: str | None = None

    @property
    def attributes(self) -> tuple[str, ...]:
        return tuple(name for name in (self.instant, self.start, self.end) if name is not None)


@dataclass(frozen=True)
class ThemeConfig:
    slug: str
    title: Mapping[str, str]
    geometry_type: str
    min_zoom: int
    max_zoom: int
    priority_attribute: str | None
    attributes: tuple[AttributeConfig, ...]
    style: tuple[Mapping[str, Any], ...]
    temporal: TemporalConfig | None = None

    def attribute(self, name: str) -> AttributeConfig | None:
        return next((a for a in self.attributes if a.name == name), None)

    @functools.cached_property
    def attributes_in_style(self) -> frozenset[str]:
        """The theme attributes named anywhere in its style (filters, `["get", …]`, text fields).

        Computed once per loaded theme: tiles ask for it on every request.
        """
        names = {attribute.name for attribute in self.attributes}
        mentioned: set[str] = set()

        def walk(node: object) -> None:
            if isinstance(node, str):
                if node in names:
                    mentioned.add(node)
            elif isinstance(node, Mapping):
                for value in node.values():
                    walk(value)
            elif isinstance(node, list | tuple):
                for value in node:
                    walk(value)

        walk(self.style)
        return frozenset(mentioned)


@dataclass(frozen=True)
class Config:
    cities: tuple[CityConfig, ...]
    sample_city: CityConfig | None
    themes: Mapping[str, ThemeConfig]

    def city(self, slug: str) -> CityConfig | None:
        every = (*self.cities, *([self.sample_city] if self.sample_city else []))
        return next((c for c in every if c.slug == slug), None)


class _Reader:
    """Walks one parsed YAML document, checking keys and types as it goes."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(self.path, key, problem)

    def mapping(self, value: Any, key: str, required: set[str], optional: set[str] = frozenset()) -> dict[str, Any]:  # type: ignore[assignment]
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a mapping, found {type(value).__name__}")
        unknown = sorted(set(value) - required - optional)
        if unknown:
            allowed = ", ".join(sorted(required | optional))
            raise self.fail(_join(key, unknown[0]), f"unknown key (allowed here: {allowed})")
        missing = sorted(required - set(value))
        if missing:
            raise self.fail(_join(key, missing[0]), "required key is missing")
        return value

    def typed(self, value: Any, key: str, kind: type | tuple[type, ...], what: str) -> Any:
        if isinstance(value, bool) and kind in (int, float, (int, float)):
            raise self.fail(key, f"expected {what}, found a boolean")
        if not isinstance(value, kind):
            raise self.fail(key, f"expected {what}, found {value!r}")
        return value

    def slug(self, value: Any, key: str, pattern: re.Pattern[str] = SLUG_RE) -> str:
        text = self.typed(value, key, str, "a slug")
        if not pattern.match(text):
            raise self.fail(key, f"expected a lower-case ASCII slug matching {pattern.pattern}, found {text!r}")
        return str(text)

    def translations(self, value: Any, key: str) -> dict[str, str]:
        data = self.mapping(value, key, set(LANGUAGES))
        for lang in LANGUAGES:
            text = self.typed(data[lang], _join(key, lang), str, "a non-empty string")
            if not text.strip():
                raise self.fail(_join(key, lang), "expected a non-empty string")
        return {lang: data[lang] for lang in LANGUAGES}

    def numbers(self, value: Any, key: str, count: int) -> tuple[float, ...]:
        if not isinstance(value, list) or len(value) != count:
            raise self.fail(key, f"expected a list of {count} numbers, found {value!r}")
        return tuple(float(self.typed(v, f"{key}[{i}]", (int, float), "a number")) for i, v in enumerate(value))

    def items(self, value: Any, key: str, parse: Callable[[Any, str], Any]) -> tuple[Any, ...]:
        if not isinstance(value, list):
            raise self.fail(key, f"expected a list, found {type(value).__name__}")
        return tuple(parse(item, f"{key}[{i}]") for i, item in enumerate(value))


def _join(key: str, child: str) -> str:
    return f"{key}.{child}" if key else child


def _load_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except FileNotFoundError:
        raise ConfigError(path, "", "file not found") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(path, where, f"not valid YAML: {getattr(exc, 'problem', exc)}") from None


def _parse_local_crs(r: _Reader, value: Any, key: str) -> LocalCrs:
    data = r.mapping(value, key, {"name", "title", "srid"})
    srid = r.typed(data["srid"], _join(key, "srid"), int, "an integer EPSG code")
    return LocalCrs(
        name=r.slug(data["name"], _join(key, "name")),
        title=r.typed(data["title"], _join(key, "title"), str, "a string"),
        srid=srid,
    )


def _parse_city(r: _Reader, value: Any, key: str, *, is_sample: bool = False) -> CityConfig:
    data = r.mapping(
        value,
        key,
        {"slug", "name", "oblast", "population", "population_year", "centre", "extent"},
        {"local_crs"},
    )
    centre = r.numbers(data["centre"], _join(key, "centre"), 2)
    extent = r.numbers(data["extent"], _join(key, "extent"), 4)
    minx, miny, maxx, maxy = extent
    if not (-180 <= minx < maxx <= 180 and -90 <= miny < maxy <= 90):
        raise r.fail(_join(key, "extent"), f"expected [minlon, minlat, maxlon, maxlat] in degrees, found {list(extent)}")
    if not (minx <= centre[0] <= maxx and miny <= centre[1] <= maxy):
        raise r.fail(_join(key, "centre"), f"centre {list(centre)} lies outside the extent {list(extent)}")
    population = r.typed(data["population"], _join(key, "population"), int, "an integer")
    return CityConfig(
        slug=r.slug(data["slug"], _join(key, "slug"), CITY_SLUG_RE),
        name=r.translations(data["name"], _join(key, "name")),
        oblast=r.translations(data["oblast"], _join(key, "oblast")),
        population=population,
        population_year=r.typed(data["population_year"], _join(key, "population_year"), int, "a year"),
        centre=(centre[0], centre[1]),
        extent=(minx, miny, maxx, maxy),
        local_crs=r.items(data.get("local_crs", []), _join(key, "local_crs"), lambda v, k: _parse_local_crs(r, v, k)),
        is_sample=is_sample,
    )


def load_cities(path: Path | None = None) -> tuple[tuple[CityConfig, ...], CityConfig | None]:
    path = path or CONFIG_DIR / "cities.yaml"
    r = _Reader(path)
    data = r.mapping(_load_yaml(path), "", {"cities"}, {"sample_city"})
    cities = r.items(data["cities"], "cities", lambda v, k: _parse_city(r, v, k))
    sample = _parse_city(r, data["sample_city"], "sample_city", is_sample=True) if "sample_city" in data else None
    seen: set[str] = set()
    for index, city in enumerate((*cities, *([sample] if sample else []))):
        if city.slug in seen:
            raise r.fail(f"cities[{index}].slug", f"duplicate city slug {city.slug!r}")
        seen.add(city.slug)
    return cities, sample


def _parse_attribute(r: _Reader, value: Any, key: str) -> AttributeConfig:
    data = r.mapping(value, key, {"name", "type", "title"}, {"unit", "enum", "required", "synonyms"})
    name = r.typed(data["name"], _join(key, "name"), str, "an attribute name")
    if not ATTRIBUTE_NAME_RE.match(name):
        raise r.fail(_join(key, "name"), f"expected lower-case ASCII snake_case, found {name!r}")
    kind = data["type"]
    if kind not in ATTRIBUTE_TYPES:
        raise r.fail(_join(key, "type"), f"expected one of {', '.join(ATTRIBUTE_TYPES)}, found {kind!r}")
    enum = data.get("enum")
    if enum is not None and not isinstance(enum, list):
        raise r.fail(_join(key, "enum"), f"expected a list of allowed values or null, found {enum!r}")
    synonyms = data.get("synonyms") or []
    r.items(synonyms, _join(key, "synonyms"), lambda v, k: r.typed(v, k, str, "a field name"))
    return AttributeConfig(
        name=name,
        type=kind,
        title=r.translations(data["title"], _join(key, "title")),
        unit=data.get("unit"),
        enum=tuple(enum) if enum is not None else None,
        required=bool(r.typed(data.get("required", False), _join(key, "required"), bool, "true or false")),
        synonyms=tuple(s.lower() for s in synonyms),
    )


def _parse_style_layer(r: _Reader, value: Any, key: str) -> Mapping[str, Any]:
    data = r.mapping(value, key, {"id", "type"}, {"paint", "layout", "filter", "minzoom", "maxzoom"})
    if data["type"] not in ("fill", "line", "circle", "symbol", "fill-extrusion"):
        raise r.fail(_join(key, "type"), f"expected a MapLibre layer type, found {data['type']!r}")
    return dict(data)


def load_theme(path: Path) -> ThemeConfig:
    r = _Reader(path)
    data = r.mapping(
        _load_yaml(path),
        "",
        {"slug", "title", "geometry_type", "zoom", "attributes", "style"},
        {"priority_attribute", "temporal"},
    )
    slug = r.slug(data["slug"], "slug")
    if slug != path.stem:
        raise r.fail("slug", f"must match the file name {path.stem!r}, found {slug!r}")
    if data["geometry_type"] not in GEOMETRY_TYPES:
        raise r.fail("geometry_type", f"expected one of {', '.join(GEOMETRY_TYPES)}, found {data['geometry_type']!r}")
    zoom = r.mapping(data["zoom"], "zoom", {"min", "max"})
    min_zoom = r.typed(zoom["min"], "zoom.min", int, "an integer zoom 0-24")
    max_zoom = r.typed(zoom["max"], "zoom.max", int, "an integer zoom 0-24")
    if not 0 <= min_zoom <= max_zoom <= 24:
        raise r.fail("zoom", f"expected 0 <= min <= max <= 24, found min={min_zoom} max={max_zoom}")
    attributes = r.items(data["attributes"], "attributes", lambda v, k: _parse_attribute(r, v, k))
    names = [a.name for a in attributes]
    if len(set(names)) != len(names):
        raise r.fail("attributes", "attribute names must be unique")
    priority = data.get("priority_attribute")
    if priority is not None and priority not in names:
        raise r.fail("priority_attribute", f"names no attribute of this theme: {priority!r}")
    return ThemeConfig(
        slug=slug,
        title=r.translations(data["title"], "title"),
        geometry_type=data["geometry_type"],
        min_zoom=min_zoom,
        max_zoom=max_zoom,
        priority_attribute=priority,
        attributes=attributes,
        style=r.items(data["style"], "style", lambda v, k: _parse_style_layer(r, v, k)),
        temporal=_parse_temporal(r, data.get("temporal"), attributes),
    )


def _parse_temporal(r: _Reader, value: Any, attributes: tuple[AttributeConfig, ...]) -> TemporalConfig | None:
    """`temporal: {instant: name}` or `temporal: {start: name, end: name}`, naming date/datetime attributes."""
    if value is None:
        return None
    data = r.mapping(value, "temporal", set(), {"instant", "start", "end"})
    if "instant" in data and ("start" in data or "end" in data):
        raise r.fail("temporal", "give either 'instant' or 'start' and 'end', not both")
    if "instant" not in data and not ("start" in data and "end" in data):
        raise r.fail("temporal", "expected {instant: attribute} or {start: attribute, end: attribute}")
    kinds = {a.name: a.type for a in attributes}
    for key, name in data.items():
        where = _join("temporal", key)
        r.typed(name, where, str, "an attribute name")
        if name not in kinds:
            raise r.fail(where, f"names no attribute of this theme: {name!r}")
        if kinds[name] not in ("date", "datetime"):
            raise r.fail(where, f"attribute {name!r} has type {kinds[name]!r}; expected date or datetime")
    if "start" in data and data["start"] == data["end"]:
        raise r.fail("temporal.end", "start and end name the same attribute; use 'instant' instead")
    return TemporalConfig(instant=data.get("instant"), start=data.get("start"), end=data.get("end"))


def load_themes(directory: Path | None = None) -> dict[str, ThemeConfig]:
    directory = directory or CONFIG_DIR / "themes"
    themes = {theme.slug: theme for theme in (load_theme(p) for p in sorted(directory.glob("*.yaml")))}
    if not themes:
        raise ConfigError(directory, "", "no theme files (*.yaml) found")
    return themes


def load_config(directory: Path | None = None) -> Config:
    directory = directory or CONFIG_DIR
    cities, sample = load_cities(directory / "cities.yaml")
    return Config(cities=cities, sample_city=sample, themes=load_themes(directory / "themes"))


@functools.cache
def get_config(directory: Path | None = None) -> Config:
    """The validated configuration of this process (loaded once per directory)."""
    return load_config(directory)
