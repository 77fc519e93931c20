"""Data managers upload files in the admin: the form creates an import job; the worker imports it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from ingest.jobs import JobRequest, job_create
from ingest.models import ImportJob
from ingest.services import MODES
from layers.errors import GeoportalError


class UploadForm(forms.Form):
    file = forms.FileField(help_text="Shapefile (.zip), GeoPackage, GeoJSON, CSV, KML/KMZ, GML, FlatGeobuf, GPX, DXF")
    city = forms.CharField(max_length=40, help_text="city slug, or 'belarus' for a national layer")
    theme = forms.CharField(max_length=40)
    layer = forms.CharField(max_length=80, required=False, help_text="layer slug (default: the theme)")
    mode = forms.ChoiceField(choices=[(m, m) for m in MODES], initial="replace")
    key = forms.CharField(max_length=100, required=False, help_text="key field for upsert/sync")
    crs = forms.CharField(max_length=500, required=False, help_text="EPSG code, PROJ string, WKT or local CRS name")
    encoding = forms.CharField(max_length=40, required=False)
    source_layer = forms.CharField(max_length=200, required=False)
    skip_other_geometries = forms.BooleanField(required=False)


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ("id", "original_name", "city", "theme", "layer", "mode", "status", "progress_done", "run", "created_at")
    list_filter = ("status", "mode", "city")
    readonly_fields = [f.name for f in ImportJob._meta.fields]
    change_list_template = "ingest/admin_changelist.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # uploads go through the upload view, which checks layer permissions

    def get_urls(self) -> list[URLPattern]:
        upload = path("upload/", self.admin_site.admin_view(self.upload_view), name="ingest_importjob_upload")
        return [upload, *super().get_urls()]

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        extra = {**(extra_context or {}), "upload_url": reverse("admin:ingest_importjob_upload")}
        return super().changelist_view(request, extra)

    def upload_view(self, request: HttpRequest) -> HttpResponse:
        form = UploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k != "file"}
            try:
                job = job_create(upload=form.cleaned_data["file"], request=JobRequest(**data), user=request.user)
            except GeoportalError as exc:
                form.add_error(None, exc.describe())
            else:
                messages.success(request, f"Queued: {job}. The background worker imports it; refresh to follow it.")
                return HttpResponseRedirect(reverse("admin:ingest_importjob_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": "Upload a file to import",
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "ingest/admin_upload.html", context)
