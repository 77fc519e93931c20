"""The one typed reading of the process environment.

Everything configurable by environment variable is read here, once, into a
frozen dataclass; `settings.py` and the CLI use it. A bad value stops start-up
with a message naming the variable, what was found and what is expected.
"""

from __future__ import annotations

import functools
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

PREFIX = "GEOPORTAL_"


@dataclass(frozen=True)
class DatabaseTarget:
    name: str
    user: str
    password: str
    host: str
    port: int
    embedded: bool


@dataclass(frozen=True)
class Basemap:
    """An external XYZ raster basemap drawn under our layers: optional, off unless GEOPORTAL_BASEMAP_URL is set.

    Only a raster tile template is accepted (not a MapLibre style URL): a style would pull glyphs, sprites
    and sources from further hosts, and the Content-Security-Policy opens exactly one origin for it.
    """

    url: str  # e.g. https://tiles.example.by/{z}/{x}/{y}.png
    attribution: str = ""
    max_zoom: int = 19

    @property
    def origin(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True)
class Env:
    debug: bool
    secret_key: str
    allowed_hosts: tuple[str, ...]
    data_dir: Path
    database: DatabaseTarget
    http_host: str
    http_port: int
    workers: int
    threads: int  # per gthread worker
    # "gthread" (default): serves clients directly, keep-alive; "sync": one request per process, behind nginx.
    worker_class: str
    max_limit: int
    default_limit: int
    tile_cache_seconds: int
    log_level: str
    config_dir: Path | None
    test_db_name: str
    # Served over HTTPS (behind TLS): secure cookies, HSTS and the HTTPS redirect.
    https: bool = False
    # Server-side tile cache (files under data_dir/tiles); off only to measure rendering.
    tile_cache: bool = True
    # External raster basemap under the viewer's layers; None (the default) on a closed network.
    basemap: Basemap | None = None
    # Sign-in lockout: this many failed sign-ins for one user name from one address lock it for the minutes.
    login_max_failures: int = 5
    login_lock_minutes: int = 15
    # gunicorn's access log (one line per request on stdout).
    access_log: bool = True

    @property
    def pg_dir(self) -> Path:
        return self.data_dir / "pg"

    @property
    def socket_dir(self) -> Path:
        return self.data_dir / "run"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "log"


def _bool(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name}={raw!r}: expected one of 1/0, true/false, yes/no, on/off")


def _int(environ: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r}: expected an integer between {low} and {high}") from None
    if not low <= value <= high:
        raise ImproperlyConfigured(f"{name}={value}: expected an integer between {low} and {high}")
    return value


WORKER_CLASSES = ("gthread", "sync")  # the first is the default
WORKERS_RANGE = (1, 64)  # gunicorn processes (GEOPORTAL_WORKERS, serve --workers)
THREADS_RANGE = (1, 32)  # threads per gthread worker (GEOPORTAL_THREADS, serve --threads)


def _choice(environ: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    raw = environ.get(name) or choices[0]
    if raw not in choices:
        raise ImproperlyConfigured(f"{name}={raw!r}: expected one of {', '.join(choices)}")
    return raw


# A host name, IPv4 address or [IPv6] address, with an optional port: nothing that could end a CSP source.
_HOST_PORT = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$")
_URL_UNSAFE = re.compile(r"[\s\"'<>\\;,`]")


def _basemap(environ: Mapping[str, str]) -> Basemap | None:
    name = PREFIX + "BASEMAP_URL"
    url = environ.get(name, "").strip()
    attribution = environ.get(PREFIX + "BASEMAP_ATTRIBUTION", "").strip()
    max_zoom = _int(environ, PREFIX + "BASEMAP_MAXZOOM", 19, 0, 24)
    if not url:
        if attribution:
            raise ImproperlyConfigured(
                f"{PREFIX}BASEMAP_ATTRIBUTION is set but {name} is not: set both to use an external basemap, or neither"
            )
        return None
    expected = "expected an XYZ raster tile template such as https://tiles.example.by/{z}/{x}/{y}.png"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not _HOST_PORT.match(parts.netloc):
        raise ImproperlyConfigured(f"{name}={url!r}: {expected} (http or https, a host name, no user or password)")
    missing = [p for p in ("{z}", "{x}", "{y}") if url.count(p) != 1]
    if missing:
        raise ImproperlyConfigured(f"{name}={url!r}: {', '.join(missing)} must each appear exactly once; {expected}")
    if _URL_UNSAFE.search(url) or "{" in re.sub(r"\{[zxy]\}", "", url):
        raise ImproperlyConfigured(
            f"{name}={url!r}: spaces, quotes, ';', ',' and placeholders other than {{z}}, {{x}}, {{y}} "
            f"are not allowed; {expected}"
        )
    return Basemap(url=url, attribution=attribution, max_zoom=max_zoom)


def default_data_dir() -> Path:
    # /root is mode 0700 on Debian, and PostgreSQL runs as an unprivileged user:
    # when root, keep the cluster where that user can reach it.
    if os.geteuid() == 0:
        return Path("/var/lib/geoportal")
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "geoportal"


def parse_database_url(url: str) -> DatabaseTarget:
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "postgis"):
        raise ImproperlyConfigured(
            f"DATABASE_URL scheme {parts.scheme!r} is not supported: expected postgresql://user:password@host:port/dbname"
        )
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise ImproperlyConfigured("DATABASE_URL names no database: expected postgresql://user:password@host:port/dbname")
    try:
        port = parts.port or 5432
    except ValueError:
        raise ImproperlyConfigured("DATABASE_URL has an invalid port: expected a number 1-65535") from None
    return DatabaseTarget(
        name=name,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        host=unquote(parts.hostname or ""),
        port=port,
        embedded=False,
    )


def _secret_key(environ: Mapping[str, str], data_dir: Path, debug: bool, embedded: bool) -> str:
    key = environ.get(PREFIX + "SECRET_KEY", "")
    if key:
        if len(key) < 32 and not debug:
            raise ImproperlyConfigured(
                f"{PREFIX}SECRET_KEY is too short ({len(key)} characters): use at least 32 random characters"
            )
        return key
    if not (debug or embedded):
        raise ImproperlyConfigured(
            f"{PREFIX}SECRET_KEY is not set. With DATABASE_URL (production) the geoportal has no default secret: "
            "set it to at least 32 random characters, e.g. from `python3 -c 'import secrets; print(secrets.token_urlsafe(48))'`."
        )
    # A single-machine install (embedded database) gets a random key generated
    # once for this installation and kept beside its data — never a shared default.
    path = data_dir / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key)
        return key


def load_env(environ: Mapping[str, str] | None = None) -> Env:
    environ = os.environ if environ is None else environ
    debug = _bool(environ, PREFIX + "DEBUG", False)
    data_dir = Path(environ.get(PREFIX + "DATA_DIR") or default_data_dir()).resolve()
    url = environ.get("DATABASE_URL", "")
    if url:
        database = parse_database_url(url)
    else:
        database = DatabaseTarget(
            name=environ.get(PREFIX + "DB_NAME", "geoportal"),
            user="postgres",
            password="",
            host=str(data_dir / "run"),
            port=_int(environ, PREFIX + "DB_PORT", 55439, 1024, 65535),
            embedded=True,
        )
    hosts = tuple(h.strip() for h in environ.get(PREFIX + "ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",") if h.strip())
    default_limit = _int(environ, PREFIX + "DEFAULT_LIMIT", 10, 1, 100_000)
    max_limit = _int(environ, PREFIX + "MAX_LIMIT", 10_000, 1, 1_000_000)
    if default_limit > max_limit:
        raise ImproperlyConfigured(f"{PREFIX}DEFAULT_LIMIT ({default_limit}) exceeds {PREFIX}MAX_LIMIT ({max_limit})")
    return Env(
        debug=debug,
        secret_key=_secret_key(environ, data_dir, debug, database.embedded),
        allowed_hosts=hosts,
        data_dir=data_dir,
        database=database,
        http_host=environ.get(PREFIX + "HOST", "127.0.0.1"),
        http_port=_int(environ, PREFIX + "PORT", 8000, 1, 65535),
        workers=_int(environ, PREFIX + "WORKERS", 4, *WORKERS_RANGE),
        threads=_int(environ, PREFIX + "THREADS", 4, *THREADS_RANGE),
        worker_class=_choice(environ, PREFIX + "WORKER_CLASS", WORKER_CLASSES),
        max_limit=max_limit,
        default_limit=default_limit,
        tile_cache_seconds=_int(environ, PREFIX + "TILE_CACHE_SECONDS", 60, 0, 31_536_000),
        log_level=environ.get(PREFIX + "LOG_LEVEL", "INFO").upper(),
        test_db_name=environ.get(PREFIX + "TEST_DB") or f"test_{database.name}",
        config_dir=Path(environ[PREFIX + "CONFIG_DIR"]) if environ.get(PREFIX + "CONFIG_DIR") else None,
        https=_bool(environ, PREFIX + "HTTPS", False),
        tile_cache=_bool(environ, PREFIX + "TILE_CACHE", True),
        basemap=_basemap(environ),
        login_max_failures=_int(environ, PREFIX + "LOGIN_MAX_FAILURES", 5, 1, 1000),
        login_lock_minutes=_int(environ, PREFIX + "LOGIN_LOCK_MINUTES", 15, 1, 10_080),
        access_log=_bool(environ, PREFIX + "ACCESS_LOG", True),
    )


@functools.cache
def get_env() -> Env:
    return load_env()
