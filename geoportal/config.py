"""The project's configuration (cities, themes), from GEOPORTAL_CONFIG_DIR or `config/`."""

from __future__ import annotations

from config.loader import Config, get_config
from geoportal.env import get_env


def project_config() -> Config:
    return get_config(get_env().config_dir)
