"""The registry: cities, layers, features, import runs and the change log."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q

NATIONAL = "belarus"  # collection-id prefix of layers that belong to no city


def _translations() -> dict[str, str]:
    return {}


class City(models.Model):
    slug = models.SlugField(max_length=40, unique=True)
    name = models.JSONField(default=_translations, help_text="{'be': …, 'ru': …, 'en': …}")
    oblast = models.JSONField(default=_translations)
    population = models.PositiveIntegerField(default=0)
    population_year = models.PositiveSmallIntegerField(default=0)
    centre = models.PointField(srid=4326)
    extent = models.PolygonField(srid=4326)
    local_crs = models.JSONField(default=list, blank=True, help_text="[{'name', 'title', 'srid'}]")
    is_sample = models.BooleanField(default=False)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ("sort_order", "slug")
        verbose_name_plural = "cities"

    def __str__(self) -> str:
        return self.name.get("en") or self.slug

    def title(self, language: str) -> str:
        return str(self.name.get(language) or self.name.get("en") or self.slug)


class Visibility(models.TextChoices):
    PUBLIC = "public", "public — anyone"
    INTERNAL = "internal", "internal — signed-in users of the owning city and national staff"
    RESTRICTED = "restricted", "restricted — named groups only"


class Layer(models.Model):
    city = models.ForeignKey(City, null=True, blank=True, on_delete=models.PROTECT, related_name="layers")
    slug = models.SlugField(max_length=80)
    theme = models.CharField(max_length=40)
    title = models.JSONField(default=_translations, blank=True)
    abstract = models.JSONField(default=_translations, blank=True)
    visibility = models.CharField(max_length=12, choices=Visibility.choices, default=Visibility.PUBLIC)
    version = models.BigIntegerField(default=0, help_text="Bumped by every change to the layer's features.")
    geometry_type = models.CharField(max_length=24, blank=True)
    extent = models.PolygonField(srid=4326, null=True, blank=True)
    feature_count = models.BigIntegerField(default=0)
    fields = models.JSONField(default=dict, blank=True, help_text="Attribute name → type, as stored.")
    # Tiles send this layer's non-integral numbers as 4-byte MVT floats (the source's own type) instead
    # of 8-byte doubles. True only while every such number came from a 4-byte float column of the
    # source (GeoPackage FLOAT, PostgreSQL real): set by a replace import, kept by appends that are
    # single precision too (ingest.services), cleared by an edit that writes another number.
    single_precision = models.BooleanField(default=False, editable=False)
    # {"version": v, "interval": [first, last] | null}: the theme's time attribute over the features at
    # version v (layers.services.layer_time_extent). Stored because it is a scan of the whole layer.
    time_extent = models.JSONField(null=True, blank=True, editable=False)
    attribution = models.TextField(blank=True)
    license = models.CharField(max_length=200, blank=True)
    lineage = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("city__sort_order", "slug")
        constraints = [
            models.UniqueConstraint(fields=("city", "slug"), name="layer_unique_slug_per_city"),
            models.UniqueConstraint(fields=("slug",), condition=Q(city__isnull=True), name="layer_unique_national_slug"),
        ]

    def __str__(self) -> str:
        return self.collection_id

    @property
    def collection_id(self) -> str:
        prefix = self.city.slug if self.city_id else NATIONAL  # type: ignore[union-attr]
        return f"{prefix}-{self.slug}"

    def title_in(self, language: str) -> str:
        return str(self.title.get(language) or self.title.get("en") or self.slug)


class Feature(models.Model):
    """One table for all layers, LIST-partitioned by layer (migration 0006); a query for one layer
    never scans another's rows.

    Small layers share the DEFAULT partition, indexed by composite GiST (layer_id, geom) and
    (layer_id, geom_3857) (btree_gist); a large layer imported in replace mode gets a partition of
    its own with plain GiST indexes built in bulk (layers/partitions.py). On every partition:
    primary key (layer_id, id) for keyset paging, (id) for lookups by id, unique (layer_id, fid).
    The indexes are SQL of the migrations, not declared here. `geom_3857` is a stored generated
    column (migration 0005) that only raw SQL reads, so it is not a model field either.
    """

    id = models.BigAutoField(primary_key=True)
    # No single-column indexes on the shared partition: the planner would pick a geometry-only
    # GiST and filter layer_id afterwards, scanning every layer's rows.
    layer = models.ForeignKey(Layer, on_delete=models.CASCADE, related_name="features", db_index=False)
    fid = models.CharField(max_length=255, help_text="Stable source id, unique per layer.")
    geom = models.GeometryField(srid=4326, spatial_index=False)
    properties = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=("layer", "fid"), name="feature_unique_fid_per_layer")]


class ChangeOp(models.TextChoices):
    INSERT = "insert"
    UPDATE = "update"
    DELETE = "delete"
    RESET = "reset", "reset — the whole layer was replaced at this version"


class FeatureChange(models.Model):
    """What every write changed, so a change feed and as-of reads can come later."""

    id = models.BigAutoField(primary_key=True)
    layer = models.ForeignKey(Layer, on_delete=models.CASCADE, related_name="changes")
    version = models.BigIntegerField()
    op = models.CharField(max_length=8, choices=ChangeOp.choices)
    fid = models.CharField(max_length=255, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=("layer", "id"), name="change_layer_id")]


class ImportStatus(models.TextChoices):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    NOOP = "noop", "no-op — identical to the previous import"


class ImportRun(models.Model):
    layer = models.ForeignKey(Layer, null=True, blank=True, on_delete=models.SET_NULL, related_name="imports")
    collection_id = models.CharField(max_length=130, blank=True)
    source_name = models.CharField(max_length=500)
    sha256 = models.CharField(max_length=64, blank=True)
    format = models.CharField(max_length=40, blank=True)
    driver = models.CharField(max_length=40, blank=True)
    source_crs = models.TextField(blank=True)
    encoding = models.CharField(max_length=40, blank=True)
    mode = models.CharField(max_length=12, default="replace")
    status = models.CharField(max_length=12, choices=ImportStatus.choices, default=ImportStatus.RUNNING)
    read = models.BigIntegerField(default=0)
    inserted = models.BigIntegerField(default=0)
    updated = models.BigIntegerField(default=0)
    deleted = models.BigIntegerField(default=0)
    repaired = models.BigIntegerField(default=0)
    skipped = models.BigIntegerField(default=0)
    warnings = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    layer_version = models.BigIntegerField(null=True, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_s = models.FloatField(null=True, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor = models.CharField(max_length=150, blank=True, help_text="Who ran it (user name or OS user for the CLI).")

    class Meta:
        ordering = ("-started_at",)

    def __str__(self) -> str:
        return f"{self.collection_id or self.source_name} @ {self.started_at:%Y-%m-%d %H:%M} ({self.status})"

    def counts(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("read", "inserted", "updated", "deleted", "repaired", "skipped")}


from layers.models_access import ApiToken, AuditLog, CityRole, LayerGrant, LoginFailure, Role  # noqa: E402, F401
