"""Reads of the ingest app: the import behind a layer's features, and the import jobs a caller may follow."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from ingest.models import ImportJob
from layers.errors import NotFound
from layers.models import ImportRun, ImportStatus, Layer


def last_succeeded_import(*, layer: Layer) -> ImportRun | None:
    """The import that produced the layer's current features, if nothing changed them since."""
    run = ImportRun.objects.filter(layer=layer, status=ImportStatus.SUCCEEDED).order_by("-id").first()
    if run is None or run.layer_version != layer.version:
        return None
    return run


def _visible_jobs(user: Any) -> QuerySet[ImportJob]:
    """The jobs the caller submitted (superusers see all)."""
    jobs = ImportJob.objects.select_related("run")
    if getattr(user, "is_superuser", False):
        return jobs
    return jobs.filter(user_id=getattr(user, "pk", None) or 0)


def job_get(*, pk: int, user: Any) -> ImportJob:
    """A job the caller may see; others answer like a missing one."""
    job = _visible_jobs(user).filter(pk=pk).first()
    if job is None:
        raise NotFound(f"Import job {pk} does not exist.")
    return job


def job_list(*, user: Any, limit: int = 100) -> list[ImportJob]:
    return list(_visible_jobs(user).order_by("-id")[:limit])
