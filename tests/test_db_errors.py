"""A database that cannot be used is one line naming the file and what to do: disk full,
read-only file or folder, damaged, newer schema, someone else's file, locked. Real faults
(tests/db_faults.py), through the service layer and the HTTP server; the command line and
the TUI have their own tests (tests/test_cli_db_errors.py, tests/test_app_db_errors.py)."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from crewos_tui.backend import errors
from crewos_tui.backend.local import db as dbmod
from crewos_tui.backend.local import sqlite_errors
from crewos_tui.backend.local.services import Services
from crewos_tui.backend.local.tables import ProjectRow
from crewos_tui.backend.principal import Principal
from crewos_tui.backend.schemas import ProjectCreate, UserCreate
from crewos_tui.backend.server.app import create_app

from .conftest import fast_settings
from .db_faults import FAULTS, break_database, limit_pages, read_only


def one_line(error: BaseException, *words: str) -> str:
    text = str(error)
    assert "\n" not in text and "Traceback" not in text and "sqlalchemy" not in text.lower(), text
    for word in words:
        assert word in text, (word, text)
    return text


async def admin_of(svc: Services) -> Principal:
    await svc.auth.create_user(Principal.system(), UserCreate(username="owner", password="owner password 1",
                                                              role="admin"))
    return await svc.auth.principal_for("owner")


async def project_names(path: Path) -> list[str]:
    svc = await Services.open(path, settings=fast_settings())
    try:
        async with svc.ctx.db.read() as s:
            return sorted((await s.scalars(select(ProjectRow.name))).all())
    finally:
        await svc.close()


async def test_a_full_disk_is_one_line_the_call_saves_nothing_and_writes_work_again(fresh_db: Path):
    svc = await Services.open(fresh_db, settings=fast_settings())
    try:
        me = await admin_of(svc)
        undo = await limit_pages(svc.ctx.db)
        made = []
        with pytest.raises(errors.DatabaseFull) as raised:
            for n in range(500):  # until the file would have to grow
                await svc.projects.create(me, ProjectCreate(name=f"Project {n}", description="x" * 2000))
                made.append(f"Project {n}")
        one_line(raised.value, str(fresh_db), "disk is full", "free some disk space")
        assert isinstance(raised.value, errors.Unavailable) and raised.value.status_code == 503
        assert raised.value.path == str(fresh_db)
        # Reads still work, and the failed call left nothing behind.
        assert len((await svc.projects.list(me, limit=200)).items) == len(made)
        undo()
        await svc.ctx.db.engine.dispose()
        await svc.projects.create(me, ProjectCreate(name="After the cleanup"))
    finally:
        await svc.close()
    assert await project_names(fresh_db) == sorted([*made, "After the cleanup"])


async def test_a_read_only_database_file_reads_but_refuses_writes_in_one_line(fresh_db: Path):
    svc = await Services.open(fresh_db, settings=fast_settings())
    me = await admin_of(svc)
    await svc.projects.create(me, ProjectCreate(name="Before"))
    await svc.close()
    with read_only(fresh_db):
        svc = await Services.open(fresh_db, settings=fast_settings())
        try:
            me = await svc.auth.principal_for("owner")
            assert [p.name for p in (await svc.projects.list(me)).items] == ["Before"]
            with pytest.raises(errors.DatabaseReadOnly) as raised:
                await svc.projects.create(me, ProjectCreate(name="After"))
            one_line(raised.value, str(fresh_db), "read-only", "chmod u+w")
        finally:
            await svc.close()
    assert await project_names(fresh_db) == ["Before"]


async def test_a_read_only_data_dir_says_so_not_unable_to_open(fresh_db: Path):
    folder = fresh_db.parent
    with read_only(folder):
        with pytest.raises(errors.DatabaseReadOnly) as raised:
            await Services.open(fresh_db, settings=fast_settings())
        text = one_line(raised.value, str(fresh_db), f"its folder {folder} is read-only", "--data-dir")
        assert "unable to open database file" not in text
        # A database that does not exist yet cannot be made there either.
        with pytest.raises(errors.DatabaseReadOnly) as raised:
            await Services.open(folder / "new.db", settings=fast_settings())
        one_line(raised.value, str(folder / "new.db"), "cannot create")


@pytest.mark.parametrize("fault", sorted(FAULTS))
async def test_an_unusable_file_is_refused_at_open_in_one_line(fresh_db: Path, fault: str):
    break_database(fresh_db, fault)
    with pytest.raises(errors.DatabaseError) as raised:
        await Services.open(fresh_db, settings=fast_settings())
    one_line(raised.value, f"database {fresh_db}:", FAULTS[fault])
    expected = {"garbage": errors.DatabaseDamaged, "malformed": errors.DatabaseDamaged,
                "newer": errors.DatabaseTooNew, "foreign": errors.DatabaseForeign}[fault]
    assert type(raised.value) is expected
    if expected is errors.DatabaseDamaged:
        assert "crewos-tui restore" in str(raised.value)


async def test_a_lock_held_past_the_wait_is_one_line(fresh_db: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(dbmod, "BUSY_TIMEOUT_MS", 50)  # the wait, short for the test
    svc = await Services.open(fresh_db, settings=fast_settings())
    me = await admin_of(svc)
    other = sqlite3.connect(fresh_db, isolation_level=None)  # another process's writer, holding the lock
    try:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(errors.DatabaseLocked) as raised:
            await svc.projects.create(me, ProjectCreate(name="Blocked"))
        one_line(raised.value, str(fresh_db), "locked", "try again")
        other.execute("ROLLBACK")
        await svc.projects.create(me, ProjectCreate(name="Free again"))
    finally:
        other.close()
        await svc.close()


def test_result_codes_not_about_the_file_are_left_alone(tmp_path: Path):
    con = sqlite3.connect(tmp_path / "x.db")
    con.execute("CREATE TABLE t (x UNIQUE)")
    con.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(sqlite3.IntegrityError) as raised:
        con.execute("INSERT INTO t VALUES (1)")
    con.close()
    assert sqlite_errors.database_error(raised.value, tmp_path / "x.db") is None
    assert sqlite_errors.database_error(ValueError("no"), tmp_path / "x.db") is None


# ---- over HTTP -------------------------------------------------------------------------------


async def test_over_http_a_full_disk_is_a_503_naming_the_file_but_not_the_servers_paths(
        fresh_db: Path, caplog: pytest.LogCaptureFixture):
    svc = await Services.open(fresh_db, settings=fast_settings())
    try:
        me = await admin_of(svc)
        from crewos_tui.backend.schemas import ApiKeyCreate

        key = (await svc.auth.create_api_key(me, ApiKeyCreate(name="http"))).key
        undo = await limit_pages(svc.ctx.db)
        app = create_app(svc)
        answers = []
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://crewos.test",
                                     headers={"X-CrewOS-API-Key": key}) as client:
            with caplog.at_level(logging.ERROR, logger="crewos_tui.server"):
                for n in range(500):
                    r = await client.post("/api/v1/projects", json={"name": f"Wire {n}", "description": "y" * 2000})
                    answers.append(r.status_code)
                    if r.status_code != 201:
                        break
            assert r.status_code == 503, r.text
            detail = r.json()["detail"]
            assert detail.startswith("the server's database crewos.db: the disk is full"), detail
            assert str(fresh_db.parent) not in detail and "internal error" not in detail
            # The operator's log has the whole line: the file and what to do.
            assert any(str(fresh_db) in rec.getMessage() and "free some disk space" in rec.getMessage()
                       for rec in caplog.records)
            listed = (await client.get("/api/v1/projects", params={"limit": 200})).json()["items"]
            assert len(listed) == answers.count(201)  # reads go on; the refused create left nothing
        # The remote client (a TUI in remote mode) raises the same line as Unavailable.
        from crewos_tui.backend.remote import RemoteBackend

        async with RemoteBackend("http://crewos.test", key, transport=httpx.ASGITransport(app=app)) as remote:
            with pytest.raises(errors.Unavailable) as raised:
                await remote.projects.create(ProjectCreate(name="Remote", description="z" * 2000))
        assert str(raised.value) == detail
        undo()
    finally:
        await svc.close()


async def test_over_http_a_read_only_database_is_a_503_not_a_500(fresh_db: Path):
    svc = await Services.open(fresh_db, settings=fast_settings())
    me = await admin_of(svc)
    from crewos_tui.backend.schemas import ApiKeyCreate

    key = (await svc.auth.create_api_key(me, ApiKeyCreate(name="http"))).key
    await svc.close()
    with read_only(fresh_db):
        svc = await Services.open(fresh_db, settings=fast_settings())
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(svc)),
                                         base_url="http://crewos.test", headers={"X-CrewOS-API-Key": key}) as client:
                # Signing in with a key writes (its last use), so even a read is refused, alike.
                answers = [await client.get("/api/v1/projects"),
                           await client.post("/api/v1/projects", json={"name": "Refused"})]
            for r in answers:
                assert r.status_code == 503, r.text
                assert r.json()["detail"].startswith("the server's database crewos.db: the file crewos.db is read-only")
        finally:
            await svc.close()
