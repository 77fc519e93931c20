"""`geoportal load_sample`: the bundled sample layers (idempotent: identical files are no-ops)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from geoportal.config import project_config
from geoportal.management.commands.ingest import summary
from ingest import osm_tags
from ingest.services import LayerOptions, import_file
from ingest.transforms import RowTransform, constant, geoboundaries
from layers.errors import GeoportalError
from layers.services import cities_sync

SAMPLE_DIR = Path(__file__).resolve().parents[2] / "sample"
OSM = "© OpenStreetMap contributors, ODbL 1.0"
GEOBOUNDARIES = "geoBoundaries (CC BY 4.0)"
_HELSINKI = {"be": "узор: цэнтр Хельсінкі, OSM", "ru": "образец: центр Хельсинки, OSM", "en": "sample: central Helsinki, OSM"}


@dataclass(frozen=True)
class SampleLayer:
    file: str
    source_layer: str
    city: str | None
    slug: str
    theme: str
    title: dict[str, str]
    attribution: str
    license: str
    transform: RowTransform | None


def _sample_title(be: str, ru: str, en: str) -> dict[str, str]:
    return {"be": f"{be} ({_HELSINKI['be']})", "ru": f"{ru} ({_HELSINKI['ru']})", "en": f"{en} ({_HELSINKI['en']})"}


SAMPLE_LAYERS = (
    SampleLayer(
        "helsinki_center_osm.gpkg",
        "buildings",
        "sample",
        "buildings",
        "buildings",
        _sample_title("Будынкі", "Здания", "Buildings"),
        OSM,
        "ODbL-1.0",
        osm_tags.buildings,
    ),
    SampleLayer(
        "helsinki_center_osm.gpkg",
        "roads",
        "sample",
        "roads",
        "roads",
        _sample_title("Дарогі і вуліцы", "Дороги и улицы", "Roads and streets"),
        OSM,
        "ODbL-1.0",
        osm_tags.roads,
    ),
    SampleLayer(
        "helsinki_center_osm.gpkg",
        "utility_lines",
        "sample",
        "utilities",
        "utilities",
        _sample_title("Інжынерныя сеткі", "Инженерные сети", "Utility networks"),
        OSM,
        "ODbL-1.0",
        osm_tags.utilities,
    ),
    SampleLayer(
        "helsinki_center_osm.gpkg",
        "addresses",
        "sample",
        "addresses",
        "addresses",
        _sample_title("Адрасы", "Адреса", "Addresses"),
        OSM,
        "ODbL-1.0",
        osm_tags.addresses,
    ),
    SampleLayer(
        "helsinki_center_osm.gpkg",
        "water",
        "sample",
        "water",
        "water",
        _sample_title("Водныя аб'екты", "Водные объекты", "Water"),
        OSM,
        "ODbL-1.0",
        osm_tags.water,
    ),
    SampleLayer(
        "belarus_boundaries.gpkg",
        "country",
        None,
        "country",
        "boundaries",
        {"be": "Дзяржаўная мяжа Беларусі", "ru": "Государственная граница Беларуси", "en": "State border of Belarus"},
        OSM,
        "ODbL-1.0",
        constant(kind="country", admin_level=2),
    ),
    SampleLayer(
        "belarus_boundaries.gpkg",
        "districts",
        None,
        "districts",
        "boundaries",
        {"be": "Раёны Беларусі", "ru": "Районы Беларуси", "en": "Districts of Belarus"},
        GEOBOUNDARIES,
        "CC-BY-4.0",
        geoboundaries,
    ),
)


class Command(BaseCommand):
    help = "Load the bundled sample layers (central Helsinki OSM as city 'sample'; Belarus border and districts)."
    requires_system_checks: list[str] = []  # no app checks needed; keeps the output to what the command did

    def handle(self, *args: Any, **options: Any) -> None:
        config = project_config()
        cities_sync(config=config)
        for sample in SAMPLE_LAYERS:
            try:
                result = import_file(
                    config=config,
                    path=SAMPLE_DIR / sample.file,
                    city=sample.city,
                    theme=sample.theme,
                    layer=sample.slug,
                    source_layer=sample.source_layer,
                    options=LayerOptions(title=sample.title, attribution=sample.attribution, license=sample.license),
                    transform=sample.transform,
                    skip_other_geometries=True,  # OSM extracts mix kinds; the theme keeps its own
                )
            except GeoportalError as exc:
                raise CommandError(f"sample layer {sample.slug!r}: {exc.describe()}") from exc
            self.stdout.write(summary(result))
