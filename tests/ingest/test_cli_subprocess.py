"""The real `geoportal` console script: one line of error, non-zero exit, never a traceback; and a real import."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from geoportal.config import project_config
from layers.models import Layer
from layers.services import cities_sync
from tests.ingest.conftest import square, write_geojson

GEOPORTAL = Path(sys.executable).parent / "geoportal"


def run_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    # the subprocess writes to this test database (committed rows: the test is transactional)
    env = {**os.environ, "GEOPORTAL_DB_NAME": connection.settings_dict["NAME"]}
    return subprocess.run([str(GEOPORTAL), *map(str, args)], capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.django_db(transaction=True)
def test_cli_errors_are_one_line_and_a_real_import_works(tmp_path: Path) -> None:
    cities_sync(config=project_config())
    missing = run_cli("ingest", tmp_path / "nope.gpkg", "--city", "minsk", "--theme", "buildings")
    assert missing.returncode != 0
    assert "CommandError:" in missing.stderr and "no such file" in missing.stderr and "Traceback" not in missing.stderr

    good = write_geojson(tmp_path / "one.geojson", [(5, square(27.55, 53.9), {"name": "Ратуша"})])
    unknown_city = run_cli("ingest", good, "--city", "atlantis", "--theme", "buildings")
    assert unknown_city.returncode != 0 and "Traceback" not in unknown_city.stderr
    assert "City 'atlantis' is not registered. Valid cities: minsk, brest" in unknown_city.stderr

    done = run_cli("ingest", good, "--city", "minsk", "--theme", "buildings")
    assert done.returncode == 0, done.stderr
    assert "minsk-buildings: version 1, 1 features written (read 1, repaired 0, skipped 0)" in done.stdout
    layer = Layer.objects.get(city__slug="minsk", slug="buildings")
    assert (layer.version, layer.feature_count, layer.features.get().properties) == (1, 1, {"name": "Ратуша"})
