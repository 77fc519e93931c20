"""`geoportal setup`: database schema, cities and the sample data — safe to run again (changes nothing then)."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from geoportal.config import project_config
from geoportal.tiles.public import sync_public_tree
from layers.errors import GeoportalError
from layers.services import cities_sync


class Command(BaseCommand):
    help = "Migrate the database, register the configured cities and load the sample layers (idempotent)."
    requires_system_checks: list[str] = []  # no app checks needed; keeps the output to what the command did

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--no-sample", action="store_true", help="do not load the bundled sample layers")
        parser.add_argument(
            "--collectstatic",
            action="store_true",
            help="also copy static files to STATIC_ROOT (not needed: WhiteNoise serves them from the app directories)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("database schema: up to date")
        try:
            created, updated = cities_sync(config=project_config())
        except GeoportalError as exc:
            raise CommandError(exc.describe()) from exc
        self.stdout.write(f"cities: {created} registered, {updated} updated")
        if not options["no_sample"]:
            self.stdout.write("sample layers:")
            call_command("load_sample", stdout=self.stdout, stderr=self.stderr)
        # Tile sets change with the theme rules and the render revision too: point nginx at the current ones.
        self.stdout.write(f"tile cache: {len(sync_public_tree())} public tile sets linked")
        if options["collectstatic"]:
            call_command("collectstatic", interactive=False, verbosity=0)
            self.stdout.write("static files: collected")
        self.stdout.write(self.style.SUCCESS("setup done"))
