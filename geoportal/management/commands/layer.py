"""`geoportal layer …`: manage who sees a layer from the command line (every change is audited).

geoportal layer list [--city SLUG]
geoportal layer set-visibility CID public|internal|restricted
geoportal layer grant CID GROUP [--write]
geoportal layer ungrant CID GROUP
geoportal layer optimize CID
"""

from __future__ import annotations

import getpass
import time
from argparse import ArgumentParser
from typing import Any

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from layers import partitions
from layers.collections import split_collection_id
from layers.errors import GeoportalError, InvalidParameter, NotFound
from layers.models import Layer, Visibility
from layers.models_access import LayerGrant
from layers.selectors import city_get, layer_find
from layers.services import layer_set_visibility, layer_spatial_order
from layers.services_access import audit_write


def _layer(cid: str) -> Layer:
    city_slug, slug = split_collection_id(cid)
    layer = layer_find(city=city_get(slug=city_slug) if city_slug else None, slug=slug)
    if layer is None:
        raise NotFound(f"Collection {cid!r} does not exist.", hint="See `geoportal layer list` for the collection ids.")
    return layer


def _group(name: str) -> Group:
    group = Group.objects.filter(name=name).first()
    if group is None:
        raise InvalidParameter("group", f"Group {name!r} does not exist.", hint="Create it in the admin (/admin/auth/group/).")
    return group


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


class Command(BaseCommand):
    help = "List layers, set their visibility, grant restricted layers to groups, store large layers in spatial order."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list", help="collection ids with visibility, version and feature count")
        listing.add_argument("--city", help="only this city's layers")
        visibility = sub.add_parser("set-visibility", help="who may see the layer")
        visibility.add_argument("cid", help="collection id, e.g. minsk-utilities or belarus-boundaries")
        visibility.add_argument("visibility", choices=Visibility.values)
        grant = sub.add_parser("grant", help="let a group see (and with --write change) a restricted layer")
        grant.add_argument("cid")
        grant.add_argument("group")
        grant.add_argument("--write", action="store_true", help="also let the group import into and edit the layer")
        ungrant = sub.add_parser("ungrant", help="take a group's access to a layer away")
        ungrant.add_argument("cid")
        ungrant.add_argument("group")
        optimize = sub.add_parser(
            "optimize", help="store a large layer's features in spatial order now (what the worker does after an import)"
        )
        optimize.add_argument("cid")
        optimize.add_argument("--force", action="store_true", help="rewrite it even if it is in spatial order already")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, "_" + options["action"].replace("-", "_"))(options)
        except GeoportalError as exc:
            raise CommandError(exc.describe()) from exc

    def _list(self, options: dict[str, Any]) -> None:
        layers = Layer.objects.select_related("city").order_by("city__sort_order", "slug")
        if options["city"]:
            layers = layers.filter(city=city_get(slug=options["city"]))
        for layer in layers:
            self.stdout.write(f"{layer.collection_id}\t{layer.visibility}\tv{layer.version}\t{layer.feature_count} features")

    def _set_visibility(self, options: dict[str, Any]) -> None:
        layer = _layer(options["cid"])
        before = layer.visibility
        layer_set_visibility(layer=layer, visibility=options["visibility"], actor=_actor())
        self.stdout.write(f"{layer.collection_id}: {before} → {layer.visibility} (version {layer.version})")

    @transaction.atomic
    def _grant(self, options: dict[str, Any]) -> None:
        layer, group = _layer(options["cid"]), _group(options["group"])
        LayerGrant.objects.update_or_create(layer=layer, group=group, defaults={"can_write": options["write"]})
        details = {"group": group.name, "write": options["write"]}
        audit_write(actor=_actor(), action="grant.set", target=layer.collection_id, details=details)
        note = (
            ""
            if layer.visibility == Visibility.RESTRICTED
            else f" (the layer is {layer.visibility}: grants matter once restricted)"
        )
        self.stdout.write(f"{layer.collection_id}: group {group.name!r} may {'write' if options['write'] else 'read'}{note}")

    @transaction.atomic
    def _ungrant(self, options: dict[str, Any]) -> None:
        layer, group = _layer(options["cid"]), _group(options["group"])
        deleted, _ = LayerGrant.objects.filter(layer=layer, group=group).delete()
        audit_write(actor=_actor(), action="grant.delete", target=layer.collection_id, details={"group": group.name})
        self.stdout.write(f"{layer.collection_id}: group {group.name!r} {'no longer has access' if deleted else 'had no grant'}")

    def _optimize(self, options: dict[str, Any]) -> None:
        layer = _layer(options["cid"])
        if partitions.own_partition(layer.pk) is None:
            self.stdout.write(
                f"{layer.collection_id}: nothing to do — its {layer.feature_count} features share the common partition "
                f"(a replace-import of at least {partitions.PARTITION_FROM} features gets a partition of its own)"
            )
            return
        if partitions.spatially_ordered(layer.pk) and not options["force"]:
            self.stdout.write(f"{layer.collection_id}: already stored in spatial order (--force rewrites it again)")
            return
        started = time.monotonic()
        if not layer_spatial_order(layer_id=layer.pk, version=layer.version):
            self.stdout.write(f"{layer.collection_id}: nothing to do — the layer changed meanwhile; run the command again")
            return
        self.stdout.write(
            f"{layer.collection_id}: {layer.feature_count} features stored in spatial order "
            f"in {time.monotonic() - started:.1f} s (version {layer.version} unchanged)"
        )
