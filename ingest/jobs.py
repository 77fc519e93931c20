"""Import jobs: accept an upload (permission checked), queue it, and run it in the background worker.

The web request only stores the file and enqueues a task; the import itself runs in
`db_worker` (django-tasks-db), which reports progress on the job row through its own
autocommit connection — the import's transaction would hide it until the end.
"""

from __future__ import annotations

import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.utils import timezone

from config.loader import Config
from ingest.models import ImportJob, JobStatus
from ingest.services import MODES, import_file
from layers.access import can_create_in, can_write
from layers.errors import Forbidden, GeoportalError, InvalidParameter
from layers.models import NATIONAL, City, Layer

MAX_UPLOAD_BYTES = 2 << 30


@dataclass(frozen=True)
class JobRequest:
    city: str
    theme: str
    layer: str = ""
    mode: str = "replace"
    key: str = ""
    crs: str = ""
    encoding: str = ""
    source_layer: str = ""
    skip_other_geometries: bool = False


def upload_dir() -> Path:
    configured = getattr(settings, "GEOPORTAL_UPLOAD_DIR", None)
    return Path(configured) if configured else Path(tempfile.gettempdir()) / "geoportal-uploads"


def job_create(*, upload: UploadedFile, request: JobRequest, user: Any) -> ImportJob:
    """Check the caller may write the target layer, store the upload, queue the import (same transaction)."""
    from ingest.tasks import enqueue_import_job  # the task module imports this one

    _check_request(request)
    _authorise(request, user)
    if upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
        raise InvalidParameter("file", f"the upload is {upload.size} bytes; the limit is {MAX_UPLOAD_BYTES}.")
    name = Path(upload.name or "upload").name
    target = upload_dir() / uuid.uuid4().hex / name
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    with transaction.atomic():
        job = ImportJob.objects.create(
            file_path=str(target),
            original_name=name,
            size=target.stat().st_size,
            user=user if getattr(user, "is_authenticated", False) else None,
            **request.__dict__,
        )
        job.task_id = enqueue_import_job(job.pk)
        job.save(update_fields=["task_id"])
    return job


def _check_request(request: JobRequest) -> None:
    if not request.city or not request.theme:
        raise InvalidParameter("city" if not request.city else "theme", "city and theme are required form fields.")
    if request.mode not in MODES:
        raise InvalidParameter("mode", f"mode {request.mode!r} is not one of {', '.join(MODES)}.")
    if request.mode in ("upsert", "sync") and not request.key:
        raise InvalidParameter("key", f"mode {request.mode} needs a key field.")


def _authorise(request: JobRequest, user: Any) -> None:
    """Writing an existing layer needs write permission on it; creating one needs a writing role in the city."""
    city = None
    if request.city != NATIONAL:
        city = City.objects.filter(slug=request.city).first()
        if city is None:
            raise InvalidParameter("city", f"City {request.city!r} is not registered.")
    slug = request.layer or request.theme
    layer = Layer.objects.filter(city=city, slug=slug).first()
    allowed = (
        can_write(user=user, layer=layer) if layer is not None else can_create_in(user=user, city_id=city.pk if city else None)
    )
    if not allowed:
        where = f"{request.city}-{slug}"
        # One message whether or not the layer exists: it must not tell who may not see it that it does.
        raise Forbidden(
            f"You may not import into {where!r}.",
            hint="Ask the city's administrator for the editor role, or for write access to that layer.",
        )


class _ProgressWriter:
    """Writes progress to the job row on its own autocommit connection, at most once a second."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self._last = 0.0
        params = connection.get_connection_params()
        params.pop("cursor_factory", None)
        params.pop("context", None)
        self._conn = psycopg.connect(**params, autocommit=True)

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self._last < 1.0:
            return
        self._last = now
        self._conn.execute(
            "UPDATE ingest_importjob SET progress_done = %s, progress_total = %s WHERE id = %s", (done, total, self.job_id)
        )

    def close(self) -> None:
        self._conn.close()


def job_run(job_id: int, *, config: Config) -> str:
    """The worker's side: run the import and record the outcome on the job (bad input is an outcome, not a crash)."""
    job = ImportJob.objects.select_related("user").get(pk=job_id)
    job.status, job.started_at = JobStatus.RUNNING, timezone.now()
    job.save(update_fields=["status", "started_at"])
    progress = _ProgressWriter(job.pk)
    try:
        result = import_file(
            config=config,
            path=Path(job.file_path),
            city=None if job.city == NATIONAL else job.city,
            theme=job.theme,
            layer=job.layer or None,
            crs=job.crs or None,
            source_layer=job.source_layer or None,
            mode=job.mode,
            key=job.key or None,
            encoding=job.encoding or None,
            skip_other_geometries=job.skip_other_geometries,
            progress=progress,
            display_name=job.original_name,
            actor=job.user.get_username() if job.user else "api",
            user_id=job.user_id,
            on_run=lambda run: ImportJob.objects.filter(pk=job.pk).update(run=run),
        )
        job.status, job.run = JobStatus.SUCCEEDED, result.run
        job.progress_done = job.progress_total = result.run.read
    except GeoportalError as exc:
        job.status, job.error = JobStatus.FAILED, exc.describe()
        job.refresh_from_db(fields=["run"])
    finally:
        progress.close()
        shutil.rmtree(Path(job.file_path).parent, ignore_errors=True)
    job.finished_at = timezone.now()
    job.save()
    return job.status
