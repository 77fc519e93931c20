"""The MapLibre style documents for one request: `/styles/{city}.json` and the style a viewer page embeds.

One function per document, so the style a planner's page draws and the one QGIS loads are the same
(the layers the caller may see, the public national layers, and the optional external basemap of
GEOPORTAL_BASEMAP_URL under our layers). Each returns the document and the layers it shows, whose
visibility decides whether a response may be cached publicly.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import get_script_prefix

from geoportal.config import project_config
from geoportal.tiles import documents
from layers.models import City, Layer
from layers.selectors import city_list, layer_list_visible
from layers.tiles import layers_version


def base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(get_script_prefix())


def public_national_layers() -> list[Layer]:
    return list(layer_list_visible(user=None).filter(city__isnull=True))


def city_style_for(request: HttpRequest, city: City) -> tuple[dict[str, Any], list[Layer]]:
    national = public_national_layers()
    layers = list(layer_list_visible(user=request.user, city=city))
    doc = documents.city_style(
        base=base_url(request),
        city=city,
        layers=layers,
        version=layers_version(layers),
        national=national,
        themes=project_config().themes,
        basemap=settings.GEOPORTAL_BASEMAP,
    )
    return doc, [*layers, *national]


def national_style_for(request: HttpRequest) -> tuple[dict[str, Any], list[Layer]]:
    national = public_national_layers()
    boxes = [c.extent.extent for c in city_list(include_sample=False)]
    doc = documents.national_style(
        base=base_url(request),
        national=national,
        themes=project_config().themes,
        fallback_bounds=documents.union_bounds(boxes),  # type: ignore[arg-type]
        basemap=settings.GEOPORTAL_BASEMAP,
    )
    return doc, national
