"""Where files live. One place, so tests (and users) can point it elsewhere.

``CREWOS_TUI_CONFIG_DIR`` / ``CREWOS_TUI_DATA_DIR`` override platformdirs' dirs.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "crewos-tui"


def config_dir() -> Path:
    env = os.environ.get("CREWOS_TUI_CONFIG_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def data_dir() -> Path:
    env = os.environ.get("CREWOS_TUI_DATA_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def config_file() -> Path:
    return config_dir() / "config.toml"


def database_file(data: Path | None = None, *, demo: bool = False) -> Path:
    return (data or data_dir()) / ("demo.db" if demo else "crewos.db")
