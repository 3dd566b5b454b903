"""The data dir is its owner's alone: folders 0700, database files 0600, and doctor warns otherwise."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from crewos_tui import cli, paths, secrets
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


def test_doctor_warns_when_others_can_open_the_data_dir_or_the_database(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(secrets, "probe_keyring", lambda: secrets.KeyringStatus("TestKeyring", True, "stand-in"))
    data, db = paths.data_dir(), paths.database_file()
    data.mkdir(parents=True)
    data.chmod(0o755)
    db.write_bytes(b"")
    db.chmod(0o644)
    wal = db.with_name(db.name + "-wal")
    wal.write_bytes(b"")
    wal.chmod(0o640)

    code = cli.main(["doctor"])
    out = capsys.readouterr().out
    assert code == 1, out
    assert f"the data dir {data} is open to group or others (mode 0755); run `chmod 700 {data}`" in out
    assert f"the database file {db} is open to group or others (mode 0644); run `chmod 600 {db}`" in out
    assert f"run `chmod 600 {wal}`" in out and "3 problem(s) found" in out

    data.chmod(0o700)
    db.chmod(0o600)
    wal.chmod(0o600)
    code = cli.main(["doctor"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "WARNING" not in out and "all good" in out
