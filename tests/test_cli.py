"""The `geoportal` console script, run as a real subprocess: clear messages, exit codes, no tracebacks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from geoportal.env import get_env

from .servers import start_serve, unused_port, wait_for_healthz

GEOPORTAL = Path(sys.executable).parent / "geoportal"


def run_geoportal(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(GEOPORTAL), *args],
        env=env or dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def test_db_status_reports_running_cluster_and_port() -> None:
    env = get_env()
    if not env.database.embedded:
        pytest.skip("DATABASE_URL is set: no embedded cluster to report on")
    result = run_geoportal("db", "status")
    assert result.returncode == 0, result.stderr
    assert "embedded PostGIS running, PostgreSQL " in result.stdout
    assert f"port {env.database.port}" in result.stdout
    assert f"data {env.pg_dir}" in result.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("frobnicate",), "Unknown command: 'frobnicate'"),
        (("db", "frobnicate"), "invalid choice: 'frobnicate'"),
        (("db",), "the following arguments are required: action"),
        (("ingest",), "the following arguments are required"),
        (("serve", "--port", "eighty"), "invalid int value: 'eighty'"),
    ],
    ids=["unknown-command", "unknown-db-action", "db-without-action", "ingest-without-file", "serve-bad-port"],
)
def test_bad_arguments_give_a_message_not_a_traceback(args: tuple[str, ...], expected: str) -> None:
    result = run_geoportal(*args)
    assert result.returncode != 0
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture
def missing_postgres_binaries(tmp_path: Path) -> dict[str, str]:
    """An environment whose PostgreSQL binary directory does not exist, with its own empty data dir and port."""
    environ = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    environ |= {
        "GEOPORTAL_PG_BINDIR": "/nonexistent",
        "GEOPORTAL_DATA_DIR": str(tmp_path / "data"),
        "GEOPORTAL_DB_PORT": str(unused_port()),
    }
    return environ


def test_db_start_without_postgres_names_the_debian_packages(missing_postgres_binaries: dict[str, str]) -> None:
    result = run_geoportal("db", "start", env=missing_postgres_binaries)
    assert result.returncode != 0
    assert "initdb" in result.stderr and "apt-get install postgresql-15 postgresql-15-postgis-3" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (Path(missing_postgres_binaries["GEOPORTAL_DATA_DIR"]) / "pg" / "PG_VERSION").exists()


def test_serve_refuses_a_port_in_use() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_geoportal("serve", "--port", str(port))
    assert result.returncode != 0
    assert f"Cannot listen on 127.0.0.1:{port}" in result.stderr and "--port" in result.stderr
    assert "Traceback" not in result.stderr


def test_make_stop_without_a_server_says_so_and_succeeds() -> None:
    """`make stop` imports the serve command's pid_file without Django set up: that import must stay light."""
    root = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "MAKEFLAGS", "MFLAGS")}
    port = unused_port()
    done = subprocess.run(["make", "-s", "stop", f"PORT={port}"], cwd=root, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert f"no server on port {port}" in done.stdout
    assert "Traceback" not in done.stderr


def test_serve_refuses_a_database_without_its_migrations() -> None:
    """After an upgrade without `geoportal setup`, serving would answer every request with an error: refuse."""
    env = get_env()
    if not env.database.embedded:
        pytest.skip("DATABASE_URL is set: the embedded cluster creates the empty database this test needs")
    name = f"test_unmigrated_{os.getpid()}"
    try:
        result = run_geoportal("serve", "--port", str(unused_port()), env={**os.environ, "GEOPORTAL_DB_NAME": name})
        assert result.returncode != 0
        assert f"the database '{name}' lacks" in result.stderr and "run `geoportal setup`" in result.stderr
        assert "Traceback" not in result.stderr
    finally:
        target = env.database
        with psycopg.connect(host=target.host, port=target.port, user=target.user, dbname="postgres", autocommit=True) as db:
            db.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


@pytest.mark.parametrize(
    ("args", "announced_sizes", "closes_each_connection"),
    [
        (("--threads", "1"), "(2 workers x 1 thread;", False),
        (("--worker-class", "sync"), "(2 sync workers, behind a proxy;", True),
    ],
    ids=["gthread-one-thread", "sync"],
)
def test_serve_runs_with_the_worker_model_asked_for(
    db: None, args: tuple[str, ...], announced_sizes: str, closes_each_connection: bool
) -> None:
    """`--threads 1` / `--worker-class sync` (or their GEOPORTAL_ variables): the server says so and answers.

    A sync worker closes each connection after its response (it accepts the next one only when it is
    free: that is what spreads requests evenly behind nginx). Concurrent requests that read the
    database all succeed: no worker inherits the master's connection (sync workers serve on the
    thread that would find it — shared, their answers got mixed up). The server uses the test
    database (migrated by `db`), so the test needs no `geoportal setup` beforehand.
    """
    import http.client
    import urllib.request
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    port = unused_port()
    server = start_serve(port, *args, "--workers", "2", database=connection.settings_dict["NAME"])
    try:
        assert server.stdout is not None
        announced = server.stdout.readline()
        assert announced_sizes in announced, announced
        wait_for_healthz(port)
        keep_alive = http.client.HTTPConnection("127.0.0.1", port, timeout=5)  # HTTP/1.1: keep-alive unless told
        keep_alive.request("GET", "/healthz")
        response = keep_alive.getresponse()
        assert response.status == 200 and response.read()
        assert response.will_close is closes_each_connection
        keep_alive.close()

        def read_collections(_: int) -> int:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ogc/collections?f=json", timeout=30) as answer:
                return int(answer.status)

        with ThreadPoolExecutor(max_workers=6) as pool:
            assert set(pool.map(read_collections, range(60))) == {200}
    finally:
        server.terminate()
        _, errors = server.communicate(timeout=30)
    assert "Internal Server Error" not in errors and "Traceback" not in errors, errors


def test_serve_refuses_an_unknown_worker_class() -> None:
    result = run_geoportal("serve", "--port", str(unused_port()), "--worker-class", "gevent")
    assert result.returncode != 0
    assert "invalid choice: 'gevent'" in result.stderr and "Traceback" not in result.stderr
    result = run_geoportal("serve", env={**os.environ, "GEOPORTAL_WORKER_CLASS": "async"})
    assert result.returncode != 0
    assert "GEOPORTAL_WORKER_CLASS='async': expected one of gthread, sync" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_refuses_a_thread_count_out_of_range() -> None:
    result = run_geoportal("serve", "--port", str(unused_port()), "--threads", "0")
    assert result.returncode != 0
    assert "--threads 0: expected between 1 and 32" in result.stderr and "Traceback" not in result.stderr
