"""The embedded default database: a private PostgreSQL + PostGIS cluster.

Used when no DATABASE_URL is given. The cluster lives under the data directory
(`pg/` data, `run/` socket, `log/`), listens on its own loopback port and a Unix
socket, and trusts local connections. PostgreSQL refuses to run as root, so when
started by root the server runs as the unprivileged system user `geoportal`.
Tools run from `/` because that user cannot enter a checkout under /root.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import psycopg

from geoportal.env import Env
from layers.errors import ConfigurationError, DatabaseUnavailable

SERVICE_USER = "geoportal"
DEBIAN_PACKAGES = "postgresql-15 postgresql-15-postgis-3 gdal-bin libgdal-dev"
SERVER_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "max_connections": "100",
    "shared_buffers": "'256MB'",
    "work_mem": "'16MB'",
    "maintenance_work_mem": "'256MB'",
    "effective_cache_size": "'2GB'",
    "jit": "off",  # JIT compilation costs more than it saves on tile and page queries
    "random_page_cost": "1.1",
    "max_wal_size": "'2GB'",
    "logging_collector": "off",
}

# glibc's malloc hands the top of a backend's heap back to the kernel after a statement and maps
# every buffer over 128 kB afresh, so each tile statement faulted its MVT and output buffers in
# again: ~107 minor page faults per z15-16 tile (benchmark; none with these). A backend keeps up to
# 8 MB of freed heap instead. Variables already set in the environment win.
SERVER_MALLOC = {"MALLOC_MMAP_THRESHOLD_": str(4 << 20), "MALLOC_TRIM_THRESHOLD_": str(8 << 20)}


def server_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment the embedded server starts in: `environ` with SERVER_MALLOC's defaults."""
    return {**SERVER_MALLOC, **environ}


@dataclass(frozen=True)
class ClusterStatus:
    running: bool
    data_dir: Path
    port: int
    socket_dir: Path
    server_version: str | None = None


def find_bindir() -> Path:
    """The newest PostgreSQL server binaries that also have PostGIS installed."""
    override = os.environ.get("GEOPORTAL_PG_BINDIR")
    candidates = (
        [Path(override)]
        if override
        else sorted(
            (Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")),
            key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
            reverse=True,
        )
    )
    for bindir in candidates:
        if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists():
            major = bindir.parent.name
            if glob.glob(f"/usr/share/postgresql/{major}/extension/postgis.control") or override:
                return bindir
            raise ConfigurationError(
                f"PostgreSQL {major} is installed but PostGIS is not (no postgis.control for version {major}).",
                hint=f"Install it: apt-get install postgresql-{major}-postgis-3",
            )
    where = f"in GEOPORTAL_PG_BINDIR={override}" if override else "under /usr/lib/postgresql/*/bin"
    raise ConfigurationError(
        f"PostgreSQL server binaries (initdb, pg_ctl) were not found {where}.",
        hint=f"Install them: apt-get install {DEBIAN_PACKAGES} — or set DATABASE_URL to use an existing PostGIS database.",
    )


def _service_uid() -> tuple[int, int] | None:
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(SERVICE_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--home-dir",
                "/nonexistent",
                "--shell",
                "/usr/sbin/nologin",
                SERVICE_USER,
            ],
            check=True,
        )
        entry = pwd.getpwnam(SERVICE_USER)
    return entry.pw_uid, entry.pw_gid


def _run_as_service(
    cmd: list[str], *, check: bool = True, environ: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", SERVICE_USER, "--", *cmd]  # runuser keeps the environment
    return subprocess.run(cmd, cwd="/", check=check, capture_output=True, text=True, env=environ)


def _prepare_dirs(env: Env) -> None:
    ids = _service_uid()
    for path in (env.data_dir, env.pg_dir, env.socket_dir, env.log_dir):
        path.mkdir(parents=True, exist_ok=True)
    if ids:
        os.chmod(env.data_dir, 0o755)  # noqa: S103 - the service user must traverse it; secrets inside are 0600
        for path in (env.pg_dir, env.socket_dir, env.log_dir):
            os.chown(path, *ids)
        os.chmod(env.pg_dir, 0o700)


def _initdb(env: Env, bindir: Path) -> None:
    if (env.pg_dir / "PG_VERSION").exists():
        return
    result = _run_as_service(
        [str(bindir / "initdb"), "-D", str(env.pg_dir), "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8", "--auth=trust"],
        check=False,
    )
    if result.returncode != 0:
        raise DatabaseUnavailable(f"initdb failed for {env.pg_dir}: {result.stderr.strip()[-800:]}")
    with (env.pg_dir / "postgresql.conf").open("a") as handle:
        handle.write("\ninclude_if_exists = 'geoportal.conf'\n")


def _write_server_config(env: Env) -> None:
    lines = [f"{k} = {v}" for k, v in SERVER_SETTINGS.items()]
    lines += [f"port = {env.database.port}", f"unix_socket_directories = '{env.socket_dir}'"]
    path = env.pg_dir / "geoportal.conf"
    path.write_text("# Written by `geoportal db start`; edit the environment, not this file.\n" + "\n".join(lines) + "\n")
    ids = _service_uid()
    if ids:
        os.chown(path, *ids)


def _port_taken(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _connect(env: Env, dbname: str = "postgres") -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(
        host=str(env.socket_dir), port=env.database.port, user="postgres", dbname=dbname, connect_timeout=5, autocommit=True
    )


def status(env: Env) -> ClusterStatus:
    version = None
    running = False
    if (env.pg_dir / "postmaster.pid").exists():
        try:
            with _connect(env) as conn:
                row = conn.execute("SHOW server_version").fetchone()
                version = str(row[0]) if row else None
                running = True
        except psycopg.OperationalError:
            running = False
    return ClusterStatus(running, env.pg_dir, env.database.port, env.socket_dir, version)


def _ensure_database(env: Env) -> None:
    with _connect(env) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (env.database.name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{env.database.name}"')  # name validated by the regex in start()


def start(env: Env) -> ClusterStatus:
    if not env.database.embedded:
        raise ConfigurationError("DATABASE_URL is set, so the embedded database is not used; nothing to start.")
    if not env.database.name.replace("_", "").isalnum():
        raise ConfigurationError(f"GEOPORTAL_DB_NAME={env.database.name!r}: use letters, digits and underscores only.")
    current = status(env)
    if current.running:
        _ensure_database(env)
        return current
    bindir = find_bindir()
    _prepare_dirs(env)
    _initdb(env, bindir)
    _write_server_config(env)
    if _port_taken(env.database.port):
        raise DatabaseUnavailable(
            f"Port {env.database.port} on 127.0.0.1 is taken by another program, so the embedded PostGIS cannot start.",
            hint="Set GEOPORTAL_DB_PORT to a free port, or DATABASE_URL to use an existing database.",
        )
    logfile = env.log_dir / "postgresql.log"
    result = _run_as_service(
        [str(bindir / "pg_ctl"), "-D", str(env.pg_dir), "-l", str(logfile), "-w", "-t", "60", "start"],
        check=False,
        environ=server_environment(os.environ),
    )
    if result.returncode != 0:
        raise DatabaseUnavailable(
            f"The embedded PostgreSQL did not start: {(result.stderr or result.stdout).strip()[-600:]}",
            hint=f"See {logfile}.",
        )
    for _ in range(50):
        current = status(env)
        if current.running:
            break
        time.sleep(0.2)
    _ensure_database(env)
    return status(env)


def stop(env: Env) -> ClusterStatus:
    if (env.pg_dir / "postmaster.pid").exists():
        _run_as_service([str(find_bindir() / "pg_ctl"), "-D", str(env.pg_dir), "-m", "fast", "-w", "stop"], check=False)
    return status(env)


def psql_path() -> str | None:
    return shutil.which("psql")
