"""The registry in the Django admin, for data managers."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.gis.db import models as gis_models
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from layers.access import can_write, manageable_cities, visible_layers, writable_layers
from layers.models import City, Feature, FeatureChange, ImportRun, Layer
from layers.models_access import ApiToken, AuditLog, CityRole, LayerGrant, Role
from layers.services import layer_delete, layer_set_visibility
from layers.services_access import audit_write, token_revoke, token_scope_details, token_set_secret
from layers.services_features import feature_delete, feature_save


class GeometryAsTextAdmin(admin.ModelAdmin):
    """Geometries edited as text (WKT, EWKT or GeoJSON).

    django.contrib.gis's map widget loads OpenLayers from a CDN and draws
    OpenStreetMap tiles from the internet, which the closed government
    networks this runs on do not reach.
    """

    formfield_overrides = {gis_models.GeometryField: {"widget": forms.Textarea(attrs={"rows": 4, "cols": 80})}}


@admin.register(City)
class CityAdmin(GeometryAsTextAdmin):
    list_display = ("slug", "english_name", "population", "is_sample", "sort_order")
    search_fields = ("slug", "name")
    ordering = ("sort_order",)

    @admin.display(description="name (en)")
    def english_name(self, obj: City) -> str:
        return obj.title("en")


def _only_visible_layers(request: HttpRequest, rows: QuerySet[Any]) -> QuerySet[Any]:
    """Rows of layers the signed-in manager may see (the one check), for every admin list that shows layer data."""
    if request.user.is_superuser:
        return rows
    return rows.filter(layer__in=visible_layers(user=request.user).values("pk"))


class LayerGrantInline(admin.TabularInline):
    model = LayerGrant
    extra = 0


@admin.register(Layer)
class LayerAdmin(GeometryAsTextAdmin):
    list_display = ("collection_id", "theme", "visibility", "version", "feature_count", "updated_at")
    list_filter = ("visibility", "theme", "city")
    search_fields = ("slug", "title")
    readonly_fields = ("version", "feature_count", "fields", "created_at", "updated_at")
    inlines = (LayerGrantInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Layer]:
        # The one check: a data manager sees in the admin exactly the layers the API shows them.
        if request.user.is_superuser:
            return super().get_queryset(request)
        return super().get_queryset(request).filter(pk__in=visible_layers(user=request.user).values("pk"))

    def has_change_permission(self, request: HttpRequest, obj: Layer | None = None) -> bool:
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or request.user.is_superuser or can_write(user=request.user, layer=obj))

    def has_delete_permission(self, request: HttpRequest, obj: Layer | None = None) -> bool:
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or request.user.is_superuser or can_write(user=request.user, layer=obj))

    def save_model(self, request: HttpRequest, obj: Layer, form: Any, change: bool) -> None:
        # Visibility goes through the service: it bumps the version (cached tiles retire) and audits.
        wanted = obj.visibility
        if change and "visibility" in form.changed_data:
            obj.visibility = form.initial["visibility"]
        super().save_model(request, obj, form, change)
        if change and "visibility" in form.changed_data:
            layer_set_visibility(layer=obj, visibility=wanted, user=request.user)
        else:
            audit_write(
                user=request.user,
                action="layer.change" if change else "layer.create",
                target=obj.collection_id,
                details={"fields": list(form.changed_data)},
            )

    def delete_model(self, request: HttpRequest, obj: Layer) -> None:
        layer_delete(layer=obj, user=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Layer]) -> None:
        for layer in queryset:
            layer_delete(layer=layer, user=request.user)

    @admin.display(description="collection id")
    def collection_id(self, obj: Layer) -> str:
        return obj.collection_id


@admin.register(Feature)
class FeatureAdmin(GeometryAsTextAdmin):
    list_display = ("id", "layer", "fid", "updated_at")
    # RelatedOnly: the filter offers only layers of the (already limited) list, never every layer's name.
    list_filter = (("layer", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("fid",)
    list_select_related = ("layer", "layer__city")
    show_full_result_count = False  # never count a multi-million-row table per page

    def get_queryset(self, request: HttpRequest) -> QuerySet[Feature]:
        return _only_visible_layers(request, super().get_queryset(request))

    # Writes need write permission on the feature's layer (the one check), and go through the services,
    # which bump the layer version so no cached tile, ETag or public tile-tree entry outlives an edit.
    def _may_write(self, request: HttpRequest, obj: Feature | None) -> bool:
        return obj is None or request.user.is_superuser or can_write(user=request.user, layer=obj.layer)

    def has_change_permission(self, request: HttpRequest, obj: Feature | None = None) -> bool:
        return super().has_change_permission(request, obj) and self._may_write(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Feature | None = None) -> bool:
        return super().has_delete_permission(request, obj) and self._may_write(request, obj)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "layer" and not request.user.is_superuser:
            kwargs["queryset"] = writable_layers(user=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Feature, form: Any, change: bool) -> None:
        feature_save(feature=obj, user=request.user)

    def delete_model(self, request: HttpRequest, obj: Feature) -> None:
        feature_delete(feature=obj, user=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Feature]) -> None:
        for feature in queryset.select_related("layer"):
            feature_delete(feature=feature, user=request.user)


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

    def get_queryset(self, request: HttpRequest) -> QuerySet[ImportRun]:
        runs = super().get_queryset(request)
        if request.user.is_superuser:
            return runs
        # Runs into layers the manager may see, and the manager's own runs (also those that created no layer).
        return runs.filter(Q(layer__in=visible_layers(user=request.user).values("pk")) | Q(user_id=request.user.pk))

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(FeatureChange)
class FeatureChangeAdmin(admin.ModelAdmin):
    list_display = ("id", "layer", "version", "op", "fid", "at")
    list_filter = ("op",)
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[FeatureChange]:
        return _only_visible_layers(request, super().get_queryset(request))

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(CityRole)
class CityRoleAdmin(admin.ModelAdmin):
    """Superusers and national admins manage every role; a city admin only the viewer/editor/admin roles of their city."""

    list_display = ("user", "role", "city")
    list_filter = ("role", "city")
    search_fields = ("user__username",)
    autocomplete_fields = ("user",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[CityRole]:
        cities = manageable_cities(user=request.user)
        roles = super().get_queryset(request)
        return roles if cities is None or request.user.is_superuser else roles.filter(city_id__in=cities)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        cities = manageable_cities(user=request.user)
        if db_field.name == "city" and cities is not None and not request.user.is_superuser:
            kwargs["queryset"] = City.objects.filter(id__in=cities)
            kwargs["required"] = True  # no city = a national role
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_choice_field(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "role" and manageable_cities(user=request.user) is not None and not request.user.is_superuser:
            kwargs["choices"] = [(value, label) for value, label in Role.choices if value != Role.NATIONAL_ADMIN]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: CityRole, form: Any, change: bool) -> None:
        # Defence in depth behind the form's choices above.
        cities = manageable_cities(user=request.user)
        if (
            not request.user.is_superuser
            and cities is not None
            and (obj.city_id not in cities or obj.role == Role.NATIONAL_ADMIN)
        ):
            raise PermissionDenied("A city admin may only assign roles in their own city.")
        super().save_model(request, obj, form, change)
        details = {"user": obj.user.get_username(), "role": obj.role, "city": obj.city.slug if obj.city else None}
        audit_write(user=request.user, action="role.set", target=str(obj), details=details)

    def delete_model(self, request: HttpRequest, obj: CityRole) -> None:
        audit_write(user=request.user, action="role.delete", target=str(obj), details={"user": obj.user.get_username()})
        super().delete_model(request, obj)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens of city services: the secret is shown once, right after creation; only its hash is kept."""

    list_display = ("name", "prefix", "user", "can_write", "created_at", "expires_at", "last_used_at", "revoked_at")
    list_filter = ("can_write",)
    search_fields = ("name", "prefix", "user__username")
    filter_horizontal = ("cities", "layers")
    readonly_fields = ("prefix", "created_at", "created_by", "last_used_at", "revoked_at")
    fields = ("name", "user", "cities", "layers", "can_write", "expires_at", "rate_limit_per_minute", *readonly_fields)
    actions = ("revoke",)

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = request.user  # type: ignore[assignment]
            request._new_token_secret = token_set_secret(obj)  # type: ignore[attr-defined]
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        token: ApiToken = form.instance
        audit_write(
            user=request.user,
            action="token.change" if change else "token.create",
            target=str(token),
            details=token_scope_details(token),
        )
        secret = getattr(request, "_new_token_secret", None)
        if secret:
            messages.warning(request, f"Copy this token now — it is not shown again: {secret}")

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiToken]:
        # Tokens are credentials: besides superusers and national admins, each manager sees only their own.
        tokens = super().get_queryset(request)
        if request.user.is_superuser or manageable_cities(user=request.user) is None:
            return tokens
        return tokens.filter(created_by_id=request.user.pk)

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        # A token can only be scoped to what its creator may see: no layer names leak through the choices.
        if db_field.name == "layers":
            kwargs["queryset"] = visible_layers(user=request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.action(description="Revoke the selected tokens (they stop working at once)")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset:
            token_revoke(token=token, by=request.user)


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    list_display = ("at", "actor", "action", "target")
    list_filter = ("action",)
    search_fields = ("actor", "target", "action")
    readonly_fields = ("at", "user", "actor", "action", "target", "details")
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditLog | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditLog | None = None) -> bool:
        return False
