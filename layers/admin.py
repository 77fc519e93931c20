"""The registry in the Django admin, for data managers."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.gis.admin import GISModelAdmin

from layers.models import City, Feature, FeatureChange, ImportRun, Layer


@admin.register(City)
class CityAdmin(GISModelAdmin):
    list_display = ("slug", "english_name", "population", "is_sample", "sort_order")
    search_fields = ("slug", "name")
    ordering = ("sort_order",)

    @admin.display(description="name (en)")
    def english_name(self, obj: City) -> str:
        return obj.title("en")


@admin.register(Layer)
class LayerAdmin(GISModelAdmin):
    list_display = ("collection_id", "theme", "visibility", "version", "feature_count", "updated_at")
    list_filter = ("visibility", "theme", "city")
    search_fields = ("slug", "title")
    readonly_fields = ("version", "feature_count", "fields", "created_at", "updated_at")

    @admin.display(description="collection id")
    def collection_id(self, obj: Layer) -> str:
        return obj.collection_id


@admin.register(Feature)
class FeatureAdmin(GISModelAdmin):
    list_display = ("id", "layer", "fid", "updated_at")
    list_filter = ("layer",)
    search_fields = ("fid",)
    list_select_related = ("layer", "layer__city")
    show_full_result_count = False  # never count a multi-million-row table per page


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = (
        "started_at",
        "collection_id",
        "source_name",
        "status",
        "read",
        "inserted",
        "repaired",
        "skipped",
        "duration_s",
    )
    list_filter = ("status", "format")
    search_fields = ("collection_id", "source_name", "sha256")
    readonly_fields = [f.name for f in ImportRun._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(FeatureChange)
class FeatureChangeAdmin(admin.ModelAdmin):
    list_display = ("id", "layer", "version", "op", "fid", "at")
    list_filter = ("op",)
    show_full_result_count = False

    def has_add_permission(self, request: object) -> bool:
        return False
