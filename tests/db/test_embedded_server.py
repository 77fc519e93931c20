"""The embedded PostgreSQL server starts with glibc malloc settings that keep tile buffers mapped (embedded_db.SERVER_MALLOC)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from geoportal import embedded_db
from geoportal.env import Env, load_env

from ..servers import unused_port


@pytest.fixture
def own_cluster_env() -> Iterator[Env]:
    """A throwaway embedded cluster: its own data dir (outside /tmp/pytest-of-*, which the service user cannot enter) and port."""
    data_dir = Path(tempfile.mkdtemp(prefix="gp-embedded-", dir="/var/tmp"))
    os.chmod(data_dir, 0o755)  # the service user creates its cluster inside
    env = load_env({"GEOPORTAL_DATA_DIR": str(data_dir), "GEOPORTAL_DB_PORT": str(unused_port())})
    try:
        yield env
    finally:
        embedded_db.stop(env)
        shutil.rmtree(data_dir, ignore_errors=True)


def postmaster_environment(env: Env) -> dict[str, str]:
    pid = (env.pg_dir / "postmaster.pid").read_text().split()[0]
    entries = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(entry.decode().split("=", 1) for entry in entries if b"=" in entry)


def test_the_embedded_server_runs_with_the_malloc_settings_and_an_operators_own_win(own_cluster_env, monkeypatch):
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", str(1 << 20))  # an operator's own choice
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    started = embedded_db.start(own_cluster_env)
    assert started.running and started.server_version
    environment = postmaster_environment(own_cluster_env)
    assert environment["MALLOC_MMAP_THRESHOLD_"] == embedded_db.SERVER_MALLOC["MALLOC_MMAP_THRESHOLD_"] == str(4 << 20)
    assert environment["MALLOC_TRIM_THRESHOLD_"] == str(1 << 20)
