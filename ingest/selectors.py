"""Reads that the ingest service needs."""

from __future__ import annotations

from layers.models import ImportRun, ImportStatus, Layer


def last_succeeded_import(*, layer: Layer) -> ImportRun | None:
    """The import that produced the layer's current features, if nothing changed them since."""
    run = ImportRun.objects.filter(layer=layer, status=ImportStatus.SUCCEEDED).order_by("-id").first()
    if run is None or run.layer_version != layer.version:
        return None
    return run
