"""Django settings, built from the typed environment in `geoportal.env`."""

from __future__ import annotations

from pathlib import Path

from geoportal.env import get_env

ENV = get_env()
BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = ENV.debug
SECRET_KEY = ENV.secret_key
ALLOWED_HOSTS = list(ENV.allowed_hosts)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "layers.apps.LayersConfig",
    "ingest.apps.IngestConfig",
    "geoportal.apps.GeoportalConfig",
    "django_tasks",
    "django_tasks_db",
]

# Background imports (issue #3): the Django tasks interface with a database-backed queue (no broker);
# `geoportal serve` starts `db_worker` beside gunicorn.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
GEOPORTAL_UPLOAD_DIR = ENV.data_dir / "uploads"
GEOPORTAL_CONFIG_DIR = ENV.config_dir  # the worker's imports load cities/themes from here

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "geoportal.middleware.ReadOnlySurfacesMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.gzip.GZipMiddleware",
    "geoportal.middleware.SharedCacheVaryMiddleware",
    "geoportal.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "geoportal.auth.BearerTokenMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "geoportal.errors.ErrorMiddleware",
]

ROOT_URLCONF = "geoportal.urls"
WSGI_APPLICATION = "geoportal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

_db = ENV.database
DATABASES = {
    "default": {
        # GeoDjango's PostGIS backend with a health check that skips `SELECT 1` while the socket is quiet.
        "ENGINE": "geoportal.db",
        "NAME": _db.name,
        "USER": _db.user,
        "PASSWORD": _db.password,
        "HOST": _db.host,
        "PORT": str(_db.port),
        "CONN_MAX_AGE": 600,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {"connect_timeout": 10},
        "TEST": {"NAME": ENV.test_db_name},
    }
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# gis.W001: Debian 12 ships GDAL 3.6, which Django 5.2 still supports but calls old.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]

LANGUAGE_CODE = "be"
LANGUAGES = [("be", "Беларуская"), ("ru", "Русский"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "geoportal" / "locale"]
USE_I18N = True
TIME_ZONE = "Europe/Minsk"
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = ENV.data_dir / "static"
STATICFILES_DIRS: list[Path | tuple[str, Path]] = [BASE_DIR / "geoportal" / "static"]
# MapLibre GL JS comes from npm (node_modules) and is served as a static file:
# nothing in the viewer is fetched from the internet.
_maplibre_dist = BASE_DIR / "node_modules" / "maplibre-gl" / "dist"
if _maplibre_dist.is_dir():
    STATICFILES_DIRS.append(("vendor/maplibre-gl", _maplibre_dist))
WHITENOISE_USE_FINDERS = True

GEOPORTAL = {
    "DEFAULT_LIMIT": ENV.default_limit,
    "MAX_LIMIT": ENV.max_limit,
    "TILE_CACHE_SECONDS": ENV.tile_cache_seconds,
    "TILE_CACHE": ENV.tile_cache,
    "LOGIN_MAX_FAILURES": ENV.login_max_failures,
    "LOGIN_LOCK_MINUTES": ENV.login_lock_minutes,
}
# Optional external raster basemap (GEOPORTAL_BASEMAP_URL): a geoportal.env.Basemap, or None (the default),
# which keeps every request of the viewer on the geoportal's own host.
GEOPORTAL_BASEMAP = ENV.basemap

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SAMESITE = "Lax"
# Behind TLS (GEOPORTAL_HTTPS=1, never with DEBUG): cookies only over HTTPS, HSTS, redirect to HTTPS.
# The proxy (docker/nginx.conf) must send X-Forwarded-Proto.
if ENV.https and not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 31_536_000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True

# Sign-in: Django's password check behind a lockout after repeated failures (geoportal/auth.py).
AUTHENTICATION_BACKENDS = ["geoportal.auth.LockoutModelBackend"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": ENV.log_level},
    "loggers": {"django.request": {"level": "ERROR"}},
}
