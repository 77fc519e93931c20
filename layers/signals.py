"""`layers_changed`: sent after the commit of any change to a layer's row (version, visibility, theme) or its deletion.

Receivers (the tile cache's public tree, `geoportal.tiles.public`) must read
what they need from the database themselves: the signal only says which layers
changed, and it is sent once the change is visible to every other connection.

Every write that changes what a layer publishes saves its `Layer` row (an
import bumps `version`, `layer_set_visibility` bumps it too), so the model's
`post_save` / `post_delete` are the one place to hook: no code path can change
a layer without the signal following its commit. Connected in
`LayersConfig.ready`. `layer_changing` goes out at once, before the commit:
enough to withdraw something, so that a process that dies between commit and
`layers_changed` leaves nothing stale behind.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import Signal

from layers.models import Layer

log = logging.getLogger(__name__)
layers_changed = Signal()  # keyword argument: layer_ids (tuple[int, ...])
# Sent at once, inside the writing transaction (keyword argument: layer). A receiver may only withdraw
# what it published about the layer: the change may still roll back, or the process die before commit.
layer_changing = Signal()


def announce_layers_changed(*, layer_ids: tuple[int, ...], using: str | None = None) -> None:
    """Send `layers_changed` when the current transaction commits (at once outside one; never on rollback).

    `robust`: the change is committed whatever a receiver does, so its failure is logged, not raised.
    """
    transaction.on_commit(partial(_send, layer_ids), using=using, robust=True)


def _send(layer_ids: tuple[int, ...]) -> None:
    for receiver, result in layers_changed.send_robust(sender=Layer, layer_ids=layer_ids):
        if isinstance(result, Exception):
            log.error("layers_changed receiver %r failed", receiver, exc_info=result)


def _layer_saved(sender: Any, instance: Layer, using: str, **kwargs: Any) -> None:
    layer_changing.send(sender=Layer, layer=instance)
    announce_layers_changed(layer_ids=(instance.pk,), using=using)


def connect() -> None:
    post_save.connect(_layer_saved, sender=Layer, dispatch_uid="layers.signals.saved")
    post_delete.connect(_layer_saved, sender=Layer, dispatch_uid="layers.signals.deleted")
