"""Background tasks (the Django tasks interface; django-tasks-db's `db_worker` runs them)."""

from __future__ import annotations

from django.conf import settings
from django_tasks import task

from config.loader import get_config
from ingest.jobs import job_run


@task()
def run_import_job(job_id: int) -> str:
    return job_run(job_id, config=get_config(getattr(settings, "GEOPORTAL_CONFIG_DIR", None)))


def enqueue_import_job(job_id: int) -> str:
    return str(run_import_job.enqueue(job_id).id)
