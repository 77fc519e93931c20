"""Imports over HTTP: POST a file (multipart) to queue an import, GET to follow it. Thin: ingest.jobs decides."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from ingest.jobs import JobRequest, job_create
from ingest.models import ImportJob
from ingest.selectors import job_get, job_list
from layers.errors import InvalidParameter, Unauthorized

TRUE = ("1", "true", "yes", "on")


def _require_user(request: HttpRequest) -> Any:
    if not request.user.is_authenticated:
        raise Unauthorized(
            "Sign in, or send 'Authorization: Bearer <token>' with a token that has the write scope.",
        )
    return request.user


@require_http_methods(["GET", "POST"])
def imports(request: HttpRequest) -> JsonResponse:
    user = _require_user(request)
    if request.method == "GET":
        return JsonResponse({"imports": [job_document(request, job) for job in job_list(user=user)]})
    upload = request.FILES.get("file")
    if upload is None:
        raise InvalidParameter("file", "no file: send the data as multipart/form-data in the field 'file'.")
    form = request.POST
    job = job_create(
        upload=upload,
        request=JobRequest(
            city=form.get("city", ""),
            theme=form.get("theme", ""),
            layer=form.get("layer", ""),
            mode=form.get("mode", "replace"),
            key=form.get("key", ""),
            crs=form.get("crs", ""),
            encoding=form.get("encoding", ""),
            source_layer=form.get("source_layer", ""),
            skip_other_geometries=form.get("skip_other_geometries", "").lower() in TRUE,
        ),
        user=user,
    )
    document = job_document(request, job)
    response = JsonResponse(document, status=202)
    response["Location"] = document["links"][0]["href"]
    return response


@require_http_methods(["GET"])
def import_detail(request: HttpRequest, job_id: int) -> JsonResponse:
    return JsonResponse(job_document(request, job_get(pk=job_id, user=_require_user(request))))


def job_document(request: HttpRequest, job: ImportJob) -> dict[str, Any]:
    total = job.progress_total
    document: dict[str, Any] = {
        "id": job.pk,
        "status": job.status,
        "file": job.original_name,
        "size": job.size,
        "city": job.city,
        "theme": job.theme,
        "layer": job.layer or job.theme,
        "mode": job.mode,
        "progress": {
            "done": job.progress_done,
            "total": total,
            "percent": round(100 * job.progress_done / total, 1) if total else (100.0 if job.status == "succeeded" else 0.0),
        },
        "error": job.error or None,
        "created": job.created_at.isoformat() if job.created_at else None,
        "started": job.started_at.isoformat() if job.started_at else None,
        "finished": job.finished_at.isoformat() if job.finished_at else None,
        "links": [
            {"rel": "self", "type": "application/json", "href": request.build_absolute_uri(reverse("api-import", args=[job.pk]))}
        ],
    }
    run = job.run
    if run is not None:
        document["run"] = {
            "id": run.pk,
            "status": run.status,
            "collection": run.collection_id,
            "layer_version": run.layer_version,
            "format": run.format,
            "driver": run.driver,
            "crs": run.source_crs,
            "encoding": run.encoding,
            "sha256": run.sha256,
            "counts": {k: getattr(run, k) for k in ("read", "inserted", "updated", "deleted", "repaired", "skipped")},
            "warnings": run.warnings,
            "error": run.error or None,
            "duration_s": run.duration_s,
        }
        if run.layer_id and run.status in ("succeeded", "noop"):
            document["links"].append(
                {"rel": "collection", "href": request.build_absolute_uri(f"/ogc/collections/{run.collection_id}")}
            )
    return document
