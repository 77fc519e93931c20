# Access control (issue #7): roles per city, grants to groups, API tokens, audit log, login failures.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("layers", "0002_feature_composite_indexes_only"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ApiToken",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=120)),
                (
                    "prefix",
                    models.CharField(help_text="The first characters of the token, to recognise it.", max_length=16, unique=True),
                ),
                ("token_hash", models.CharField(editable=False, max_length=64, unique=True)),
                ("can_write", models.BooleanField(default=False, help_text="Scope: read only, or read and write.")),
                ("rate_limit_per_minute", models.PositiveIntegerField(blank=True, help_text="Empty = no limit.", null=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("expires_at", models.DateTimeField(blank=True, null=True)),
                ("revoked_at", models.DateTimeField(blank=True, null=True)),
                ("last_used_at", models.DateTimeField(blank=True, null=True)),
                ("window_start", models.DateTimeField(blank=True, editable=False, null=True)),
                ("window_count", models.PositiveIntegerField(default=0, editable=False)),
                ("cities", models.ManyToManyField(blank=True, related_name="api_tokens", to="layers.city")),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                ("layers", models.ManyToManyField(blank=True, related_name="api_tokens", to="layers.layer")),
                (
                    "user",
                    models.ForeignKey(
                        help_text="The service account.",
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="api_tokens",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ("-created_at",),
            },
        ),
        migrations.CreateModel(
            name="AuditLog",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("at", models.DateTimeField(auto_now_add=True, db_index=True)),
                ("actor", models.CharField(blank=True, help_text="User name, token or OS user (CLI).", max_length=150)),
                ("action", models.CharField(max_length=60)),
                ("target", models.CharField(blank=True, max_length=200)),
                ("details", models.JSONField(blank=True, default=dict)),
                (
                    "user",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ("-at",),
            },
        ),
        migrations.CreateModel(
            name="LoginFailure",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("username", models.CharField(max_length=150)),
                ("ip", models.CharField(max_length=45)),
                ("at", models.DateTimeField(auto_now_add=True)),
            ],
            options={
                "indexes": [models.Index(fields=["username", "ip", "at"], name="loginfailure_lookup")],
            },
        ),
        migrations.CreateModel(
            name="CityRole",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "role",
                    models.CharField(
                        choices=[
                            ("viewer", "viewer — reads the city's internal layers"),
                            ("editor", "editor — also imports and edits the city's layers"),
                            ("city_admin", "city admin — also manages the city's layers and visibility"),
                            ("national_admin", "national admin — everything, every city (no city)"),
                        ],
                        max_length=16,
                    ),
                ),
                (
                    "city",
                    models.ForeignKey(
                        blank=True,
                        help_text="Empty = national.",
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="roles",
                        to="layers.city",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="city_roles", to=settings.AUTH_USER_MODEL
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("user", "city", "role"), name="cityrole_unique"),
                    models.UniqueConstraint(
                        condition=models.Q(("city__isnull", True)), fields=("user", "role"), name="cityrole_unique_national"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("role", "national_admin"), _negated=True), ("city__isnull", True), _connector="OR"
                        ),
                        name="cityrole_national_admin_has_no_city",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="LayerGrant",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("can_write", models.BooleanField(default=False)),
                (
                    "group",
                    models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="layer_grants", to="auth.group"),
                ),
                (
                    "layer",
                    models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="grants", to="layers.layer"),
                ),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("layer", "group"), name="layergrant_unique")],
            },
        ),
    ]
