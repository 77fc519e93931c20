"""Helpers for tests that run a real `geoportal serve` (or another server) as a subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from urllib.parse import urlsplit, urlunsplit


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def environ_for_database(name: str) -> dict[str, str]:
    """This process's environment pointed at database `name` (embedded cluster or DATABASE_URL's server)."""
    environ = dict(os.environ)
    if environ.get("DATABASE_URL"):
        environ["DATABASE_URL"] = urlunsplit(urlsplit(environ["DATABASE_URL"])._replace(path=f"/{name}"))
    else:
        environ["GEOPORTAL_DB_NAME"] = name
    return environ


def start_serve(port: int, *args: str, database: str) -> subprocess.Popen[str]:
    """`geoportal serve` on `port` with `args`, on database `database`, without the task worker."""
    command = [sys.executable, "-m", "geoportal.cli", "serve", "--port", str(port), *args, "--no-task-worker"]
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environ_for_database(database)
    )


def wait_for_healthz(port: int, seconds: float = 30) -> None:
    """Until the server on `port` answers /healthz with 200 (fails the test after `seconds`)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
                assert response.status == 200
                return
        except OSError:
            assert time.monotonic() < deadline, "the server never answered /healthz"
            time.sleep(0.3)
