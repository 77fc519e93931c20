"""Import jobs: an uploaded file waiting for, or being handled by, the background worker."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class JobStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class ImportJob(models.Model):
    """What was asked (file + options) and how far the worker got; the outcome is the linked ImportRun."""

    status = models.CharField(max_length=12, choices=JobStatus.choices, default=JobStatus.QUEUED)
    file_path = models.CharField(max_length=1000, help_text="The stored upload (removed when the job ends).")
    original_name = models.CharField(max_length=300)
    size = models.BigIntegerField(default=0)
    city = models.CharField(max_length=40, help_text="City slug, or 'belarus' for a national layer.")
    theme = models.CharField(max_length=40)
    layer = models.CharField(max_length=80, blank=True)
    mode = models.CharField(max_length=12, default="replace")
    key = models.CharField(max_length=100, blank=True)
    crs = models.TextField(blank=True)
    encoding = models.CharField(max_length=40, blank=True)
    source_layer = models.CharField(max_length=200, blank=True)
    skip_other_geometries = models.BooleanField(default=False)
    progress_done = models.BigIntegerField(default=0)
    progress_total = models.BigIntegerField(default=0)
    run = models.ForeignKey("layers.ImportRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs")
    error = models.TextField(blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-id",)

    def __str__(self) -> str:
        return f"import job {self.pk}: {self.original_name} → {self.city}/{self.layer or self.theme} ({self.status})"
