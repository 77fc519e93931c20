"""`geoportal reindex_search [--city SLUG] [--collection CID]`: rebuild the search index of existing layers.

The ingest service should index each layer after a successful import
(`layers.search.search_index_layer`); this command covers data imported before
that, and a change of the folding rules in `layers/translit.py`.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from layers.collections import split_collection_id
from layers.errors import GeoportalError
from layers.models import Layer
from layers.search import search_index_layer


class Command(BaseCommand):
    help = "Rebuild the name/address search index (all layers, one city's, or one collection's)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--city", help="only the layers of this city slug")
        parser.add_argument("--collection", help="only this collection id, e.g. minsk-roads or belarus-boundaries")

    def handle(self, *args: Any, **options: Any) -> None:
        layers = Layer.objects.select_related("city").order_by("id")
        if options["city"]:
            layers = layers.filter(city__slug=options["city"])
        if options["collection"]:
            try:
                city_slug, slug = split_collection_id(options["collection"])
            except GeoportalError as exc:
                raise CommandError(exc.describe()) from exc
            layers = layers.filter(city__slug=city_slug, slug=slug) if city_slug else layers.filter(city__isnull=True, slug=slug)
        if not layers.exists():
            raise CommandError(
                "No layer matches; see `geoportal ingest --help` to import one, or check the slugs at /ogc/collections."
            )
        for layer in layers:
            written = search_index_layer(layer=layer)
            self.stdout.write(f"{layer.collection_id}: {written} search entries")
