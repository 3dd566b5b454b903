"""Where files live. One place, so tests (and users) can point it elsewhere.

``CREWOS_TUI_CONFIG_DIR`` / ``CREWOS_TUI_DATA_DIR`` override platformdirs' dirs.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "crewos-tui"
#: The data dir, the folders crewos-tui makes in it and the database files are the owner's alone:
#: they hold password hashes and every chat.
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


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


def private_dir(path: Path) -> Path:
    """Make the folder ``path`` if it is missing, owner-only (0700), whatever the umask.

    Missing folders above it are made as usual. A folder that already exists keeps its mode:
    ``crewos-tui doctor`` warns when the data dir is open to others.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.mkdir(mode=PRIVATE_DIR_MODE)
    except FileExistsError:
        return path
    path.chmod(PRIVATE_DIR_MODE)
    return path
