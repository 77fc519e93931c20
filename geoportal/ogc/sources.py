"""National collections per theme: `buildings` spans every visible city layer of the theme.

A theme collection looks to the views like a layer (the attributes they read),
over several layers at once. Its layers come from the one permission check
(`layer_list_visible(user=…)`), so a caller sees exactly the city layers they
may see; with none visible, the collection does not exist for them. Sample
cities (stand-in data outside Belarus) are not part of national collections.
Feature ids are `{city}:{fid}`, unique across the cities.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.gis.geos import Polygon

from config.loader import ThemeConfig
from layers.collections import collection_not_found
from layers.models import Layer, Visibility
from layers.selectors import layer_get_visible, layer_list_visible


@dataclass(frozen=True)
class ThemeCollection:
    theme: str
    title: dict[str, str]
    layers: list[Layer]

    @property
    def collection_id(self) -> str:
        return self.theme

    @property
    def city(self) -> None:
        return None

    @property
    def geometry_type(self) -> str:
        return self.layers[0].geometry_type

    @property
    def abstract(self) -> dict[str, str]:
        cities = ", ".join(layer.city.slug for layer in self.layers if layer.city)
        return {"en": f"Every city's {self.theme} layer in one collection ({cities}). Feature ids are '{{city}}:{{id}}'."}

    @property
    def extent(self) -> Polygon | None:
        boxes = [layer.extent.extent for layer in self.layers if layer.extent is not None]
        if not boxes:
            return None
        return Polygon.from_bbox(
            (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))
        )

    @property
    def feature_count(self) -> int:
        return sum(layer.feature_count for layer in self.layers)

    @property
    def fields(self) -> dict[str, str]:
        merged: dict[str, str] = {}
        for layer in self.layers:
            for name, kind in (layer.fields or {}).items():
                merged[name] = kind if merged.get(name, kind) == kind else "string"
        return merged

    @property
    def license(self) -> str:
        licenses = {layer.license for layer in self.layers}
        return licenses.pop() if len(licenses) == 1 else ""

    @property
    def attribution(self) -> str:
        return "; ".join(sorted({layer.attribution for layer in self.layers if layer.attribution}))

    @property
    def visibility(self) -> str:
        public = all(layer.visibility == Visibility.PUBLIC for layer in self.layers)
        return Visibility.PUBLIC if public else Visibility.INTERNAL

    # What the ETag depends on: every member layer and its version.
    @property
    def id(self) -> str:
        return ",".join(f"{layer.id}:{layer.version}" for layer in self.layers)

    @property
    def version(self) -> int:
        return 0

    @property
    def updated_at(self) -> datetime | None:
        return max((layer.updated_at for layer in self.layers if layer.updated_at), default=None)

    def title_in(self, language: str) -> str:
        return str(self.title.get(language) or self.title.get("en") or self.theme)

    def id_prefixes(self) -> dict[int, str]:
        return {layer.id: layer.city.slug for layer in self.layers if layer.city}

    def member(self, feature_id: str) -> tuple[Layer, str] | None:
        """The layer and source fid of a national feature id `{city}:{fid}`."""
        city, sep, fid = feature_id.partition(":")
        found = [layer for layer in self.layers if layer.city and layer.city.slug == city]
        return (found[0], fid) if sep and found else None


Source = Layer | ThemeCollection


def theme_collections(*, user: Any, themes: Mapping[str, ThemeConfig]) -> list[ThemeCollection]:
    return group_themes(layer_list_visible(user=user).filter(theme__in=list(themes)), themes)


def group_themes(visible: Iterable[Layer], themes: Mapping[str, ThemeConfig]) -> list[ThemeCollection]:
    """The theme collections over `visible`, layers the caller already has from `layer_list_visible(user=…)`."""
    city_layers = [layer for layer in visible if layer.city and not layer.city.is_sample and layer.theme in themes]
    grouped: dict[str, list[Layer]] = {}
    for layer in sorted(city_layers, key=lambda layer: (layer.theme, layer.city.slug if layer.city else "", layer.id)):
        grouped.setdefault(layer.theme, []).append(layer)
    return [ThemeCollection(theme, dict(themes[theme].title), layers) for theme, layers in grouped.items()]


def is_theme_collection(cid: str, themes: Mapping[str, ThemeConfig]) -> bool:
    """Whether `cid` names a theme's national collection rather than one layer."""
    return "-" not in cid and cid in themes


def source_get(*, cid: str, user: Any, themes: Mapping[str, ThemeConfig]) -> Source:
    """A city or national layer by '{city}-{layer}', or a theme collection by the theme's slug."""
    if not is_theme_collection(cid, themes):
        return layer_get_visible(cid=cid, user=user)
    for found in theme_collections(user=user, themes={cid: themes[cid]}):
        return found
    raise collection_not_found(cid)


def layer_ids(source: Source) -> list[int]:
    return [layer.id for layer in source.layers] if isinstance(source, ThemeCollection) else [source.id]
