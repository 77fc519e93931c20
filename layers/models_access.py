"""Who may see and change which layers: roles per city, grants to groups, API tokens, the audit log.

The rules themselves live in one function, `layers.access.visible_layers`
(and `writable_layers` for writes); these models only hold the facts it reads.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q
from django.db.models.signals import post_save
from django.utils import timezone

from layers.models import City, ImportRun, ImportStatus, Layer


class Role(models.TextChoices):
    VIEWER = "viewer", "viewer — reads the city's internal layers"
    EDITOR = "editor", "editor — also imports and edits the city's layers"
    CITY_ADMIN = "city_admin", "city admin — also manages the city's layers and visibility"
    NATIONAL_ADMIN = "national_admin", "national admin — everything, every city (no city)"


class CityRole(models.Model):
    """A user's role in one city; without a city the role is national (national staff)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="city_roles")
    city = models.ForeignKey(
        City, null=True, blank=True, on_delete=models.CASCADE, related_name="roles", help_text="Empty = national."
    )
    role = models.CharField(max_length=16, choices=Role.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("user", "city", "role"), name="cityrole_unique"),
            models.UniqueConstraint(fields=("user", "role"), condition=Q(city__isnull=True), name="cityrole_unique_national"),
            # A national admin has no city; the other roles may be national or per city.
            models.CheckConstraint(
                condition=~Q(role="national_admin") | Q(city__isnull=True), name="cityrole_national_admin_has_no_city"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.role} of {self.city.slug if self.city_id else 'Belarus'}"  # type: ignore[union-attr]


class LayerGrant(models.Model):
    """A group's access to a restricted layer (e.g. underground utilities)."""

    layer = models.ForeignKey(Layer, on_delete=models.CASCADE, related_name="grants")
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="layer_grants")
    can_write = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=("layer", "group"), name="layergrant_unique")]

    def __str__(self) -> str:
        return f"{self.group} → {self.layer} ({'write' if self.can_write else 'read'})"


class ApiToken(models.Model):
    """A bearer token of a city service. Only the SHA-256 of the secret is kept; the secret is shown once.

    A token never exceeds its service account: it sees public layers plus what the
    account may see *and* the token's scope (its cities and layers) allows.
    """

    name = models.CharField(max_length=120)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens", help_text="The service account."
    )
    prefix = models.CharField(max_length=16, unique=True, help_text="The first characters of the token, to recognise it.")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    cities = models.ManyToManyField(City, blank=True, related_name="api_tokens")
    layers = models.ManyToManyField(Layer, blank=True, related_name="api_tokens")
    can_write = models.BooleanField(default=False, help_text="Scope: read only, or read and write.")
    rate_limit_per_minute = models.PositiveIntegerField(null=True, blank=True, help_text="Empty = no limit.")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    window_start = models.DateTimeField(null=True, blank=True, editable=False)
    window_count = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        expired = self.expires_at is not None and self.expires_at <= timezone.now()
        return self.revoked_at is None and not expired


class AuditLog(models.Model):
    """Every write that matters: imports, edits, permission and token changes — who, when, what."""

    id = models.BigAutoField(primary_key=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor = models.CharField(max_length=150, blank=True, help_text="User name, token or OS user (CLI).")
    action = models.CharField(max_length=60)
    target = models.CharField(max_length=200, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ("-at",)

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.target}"


class LoginFailure(models.Model):
    """A failed sign-in, counted per user name and address to lock out password guessing."""

    id = models.BigAutoField(primary_key=True)
    username = models.CharField(max_length=150)
    ip = models.CharField(max_length=45)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=("username", "ip", "at"), name="loginfailure_lookup")]


def _audit_finished_import(sender: type, instance: ImportRun, **kwargs: object) -> None:
    """Imports are writes: each finished run lands in the audit log (ingest records the run itself)."""
    if instance.status == ImportStatus.RUNNING:
        return
    AuditLog.objects.create(
        user_id=instance.user_id,
        actor=instance.actor or (instance.user.get_username() if instance.user_id else ""),  # type: ignore[union-attr]
        action=f"import.{instance.status}",
        target=(instance.collection_id or instance.source_name)[:200],
        details={"import_run": instance.pk, "source": instance.source_name, "sha256": instance.sha256, **instance.counts()},
    )


post_save.connect(_audit_finished_import, sender=ImportRun, dispatch_uid="layers.audit_finished_import")
