"""geoportal.env.load_env: every bad value stops start-up with a message naming the variable."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from geoportal.env import load_env, parse_database_url

GOOD_SECRET = "x" * 40
PRODUCTION_URL = "postgresql://geoportal:s3cret@db.internal:6543/gis"


@pytest.fixture
def empty_data_dir(tmp_path: Path) -> Path:
    """A data directory with nothing in it (no generated secret key yet)."""
    return tmp_path / "data"


def _env(data_dir: Path, **values: str) -> dict[str, str]:
    return {"GEOPORTAL_DATA_DIR": str(data_dir), **values}


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("GEOPORTAL_PORT", "abc", "expected an integer between 1 and 65535"),
        ("GEOPORTAL_PORT", "70000", "expected an integer between 1 and 65535"),
        ("GEOPORTAL_WORKERS", "0", "expected an integer between 1 and 64"),
        ("GEOPORTAL_THREADS", "33", "expected an integer between 1 and 32"),
        ("GEOPORTAL_DB_PORT", "5.5", "expected an integer"),
        ("GEOPORTAL_DEBUG", "maybe", "expected one of 1/0, true/false"),
        ("GEOPORTAL_MAX_LIMIT", "-1", "expected an integer between 1"),
        ("GEOPORTAL_LOGIN_MAX_FAILURES", "0", "expected an integer between 1 and 1000"),
        ("GEOPORTAL_LOGIN_LOCK_MINUTES", "forever", "expected an integer between 1 and 10080"),
    ],
)
def test_bad_value_names_the_variable(empty_data_dir: Path, variable: str, value: str, expected: str) -> None:
    with pytest.raises(ImproperlyConfigured) as info:
        load_env(_env(empty_data_dir, **{variable: value}))
    message = str(info.value)
    assert variable in message and value in message and expected in message


def test_default_limit_above_max_limit_names_both(empty_data_dir: Path) -> None:
    with pytest.raises(ImproperlyConfigured, match=r"GEOPORTAL_DEFAULT_LIMIT.*GEOPORTAL_MAX_LIMIT"):
        load_env(_env(empty_data_dir, GEOPORTAL_DEFAULT_LIMIT="500", GEOPORTAL_MAX_LIMIT="100"))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mysql://geoportal:pw@db/gis", "DATABASE_URL scheme 'mysql' is not supported"),
        ("postgresql://geoportal:pw@db:5432/", "DATABASE_URL names no database"),
        ("postgresql://geoportal:pw@db:99999/gis", "DATABASE_URL has an invalid port"),
    ],
)
def test_bad_database_url_names_the_variable(empty_data_dir: Path, url: str, expected: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=expected):
        load_env(_env(empty_data_dir, DATABASE_URL=url, GEOPORTAL_SECRET_KEY=GOOD_SECRET))


def test_production_without_secret_key_refuses_to_start(empty_data_dir: Path) -> None:
    with pytest.raises(ImproperlyConfigured, match="GEOPORTAL_SECRET_KEY is not set"):
        load_env(_env(empty_data_dir, DATABASE_URL=PRODUCTION_URL))
    assert not (empty_data_dir / "secret_key").exists(), "no key may be invented for a production database"


def test_production_with_short_secret_key_refuses_to_start(empty_data_dir: Path) -> None:
    with pytest.raises(ImproperlyConfigured, match=r"GEOPORTAL_SECRET_KEY is too short \(5 characters\)"):
        load_env(_env(empty_data_dir, DATABASE_URL=PRODUCTION_URL, GEOPORTAL_SECRET_KEY="short"))


def test_database_url_is_parsed_into_its_parts(empty_data_dir: Path) -> None:
    env = load_env(
        _env(
            empty_data_dir,
            DATABASE_URL="postgis://map%40user:p%40ss%2Fw0rd@db.example.org:6543/gis_prod",
            GEOPORTAL_SECRET_KEY=GOOD_SECRET,
        )
    )
    db = env.database
    assert (db.name, db.user, db.password, db.host, db.port, db.embedded) == (
        "gis_prod",
        "map@user",
        "p@ss/w0rd",
        "db.example.org",
        6543,
        False,
    )
    assert env.secret_key == GOOD_SECRET
    assert env.test_db_name == "test_gis_prod"


def test_database_url_without_port_uses_5432() -> None:
    assert parse_database_url("postgresql://u@localhost/geo").port == 5432


def test_embedded_install_generates_one_private_secret_key(empty_data_dir: Path) -> None:
    first = load_env(_env(empty_data_dir))
    second = load_env(_env(empty_data_dir))
    key_file = empty_data_dir / "secret_key"
    assert first.database.embedded and first.database.host == str(empty_data_dir.resolve() / "run")
    assert len(first.secret_key) >= 32 and first.secret_key == second.secret_key == key_file.read_text()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_defaults_serve_on_loopback_port_8000(empty_data_dir: Path) -> None:
    env = load_env(_env(empty_data_dir))
    assert (env.http_host, env.http_port, env.workers, env.database.port) == ("127.0.0.1", 8000, 4, 55439)
