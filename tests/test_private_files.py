"""The data dir is its owner's alone: folders 0700, database files 0600."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from crewos_tui import paths
from crewos_tui.backend.local.services import Services
from crewos_tui.backend.principal import Principal
from crewos_tui.backend.schemas import UserCreate

from .conftest import PASSWORD, fast_settings


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The common umask 022, under which plain mkdir and open give 0755 and 0644."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.mark.usefixtures("usual_umask")
async def test_a_new_database_and_its_folder_are_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    db = paths.database_file(data)
    services = await Services.open(db, settings=fast_settings())
    try:
        await services.auth.create_user(Principal.system(), UserCreate(username="ann", password=PASSWORD))
        wal, shm = db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")
        assert wal.is_file() and shm.is_file()  # the connection is still open: WAL mode keeps them
        assert mode(data) == 0o700
        assert (mode(db), mode(wal), mode(shm)) == (0o600, 0o600, 0o600)
    finally:
        await services.close()


@pytest.mark.usefixtures("usual_umask")
def test_the_exports_folder_and_a_new_data_dir_are_private(tmp_path: Path) -> None:
    from crewos_tui.screens.chat import export_dir

    data = tmp_path / "data"
    exports = export_dir(SimpleNamespace(spec=SimpleNamespace(data_dir=data)))
    assert exports == data / "exports"
    assert (mode(data), mode(exports)) == (0o700, 0o700)

