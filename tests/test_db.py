"""The SQLite layer: pragmas, schema versions, forward migrations, one transaction per call."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import select, text

from crewos_tui.backend import errors
from crewos_tui.backend.local import db as dbmod
from crewos_tui.backend.local.services import Services
from crewos_tui.backend.local.tables import DomainEventRow, ProjectRow
from crewos_tui.backend.principal import Principal
from crewos_tui.backend.schemas import ProjectCreate

from .conftest import fast_settings

# The schema as version 1 shipped it (users, sessions, keys without last_used_at,
# projects), with one user and one project in it.
V1_SCHEMA = """
CREATE TABLE users (id VARCHAR NOT NULL PRIMARY KEY, username VARCHAR NOT NULL UNIQUE, password_hash VARCHAR NOT NULL,
  team VARCHAR NOT NULL, role VARCHAR NOT NULL, namespace_grants JSON NOT NULL, disabled BOOLEAN NOT NULL,
  failed_logins INTEGER NOT NULL, locked_until DATETIME, created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL);
CREATE TABLE refresh_tokens (id VARCHAR NOT NULL PRIMARY KEY, user_id VARCHAR NOT NULL REFERENCES users (id)
  ON DELETE CASCADE, session_id VARCHAR NOT NULL, token_hash VARCHAR NOT NULL UNIQUE, created_at DATETIME NOT NULL,
  expires_at DATETIME NOT NULL, revoked_at DATETIME, replaced_by VARCHAR);
CREATE TABLE api_keys (id VARCHAR NOT NULL PRIMARY KEY, user_id VARCHAR NOT NULL REFERENCES users (id)
  ON DELETE CASCADE, name VARCHAR NOT NULL, prefix VARCHAR NOT NULL UNIQUE, key_hash VARCHAR NOT NULL,
  scopes JSON NOT NULL, expires_at DATETIME, created_at DATETIME NOT NULL, revoked_at DATETIME);
CREATE TABLE projects (id VARCHAR NOT NULL PRIMARY KEY, name VARCHAR NOT NULL, name_key VARCHAR NOT NULL,
  description VARCHAR NOT NULL, template VARCHAR NOT NULL, status VARCHAR NOT NULL, team VARCHAR NOT NULL,
  owner_id VARCHAR REFERENCES users (id) ON DELETE SET NULL, created_at DATETIME NOT NULL,
  updated_at DATETIME NOT NULL, archived_at DATETIME, CONSTRAINT uq_project_team_name UNIQUE (team, name_key));
CREATE TABLE project_members (project_id VARCHAR NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  user_id VARCHAR NOT NULL REFERENCES users (id) ON DELETE CASCADE, role VARCHAR NOT NULL, added_at DATETIME NOT NULL,
  PRIMARY KEY (project_id, user_id));
CREATE TABLE access_requests (id VARCHAR NOT NULL PRIMARY KEY, project_id VARCHAR NOT NULL REFERENCES projects (id)
  ON DELETE CASCADE, user_id VARCHAR NOT NULL REFERENCES users (id) ON DELETE CASCADE, role VARCHAR NOT NULL,
  message VARCHAR NOT NULL, status VARCHAR NOT NULL, created_at DATETIME NOT NULL, decided_by VARCHAR,
  decided_at DATETIME, comment VARCHAR NOT NULL);
CREATE TABLE scaffold_items (id VARCHAR NOT NULL PRIMARY KEY, project_id VARCHAR NOT NULL REFERENCES projects (id)
  ON DELETE CASCADE, kind VARCHAR NOT NULL, path VARCHAR NOT NULL, title VARCHAR NOT NULL,
  description VARCHAR NOT NULL, position INTEGER NOT NULL);
CREATE TABLE folders (id VARCHAR NOT NULL PRIMARY KEY, project_id VARCHAR NOT NULL REFERENCES projects (id)
  ON DELETE CASCADE, path VARCHAR NOT NULL, name VARCHAR NOT NULL, created_at DATETIME NOT NULL,
  CONSTRAINT uq_folder_path UNIQUE (project_id, path));
CREATE TABLE folder_updates (id VARCHAR NOT NULL PRIMARY KEY, project_id VARCHAR NOT NULL REFERENCES projects (id)
  ON DELETE CASCADE, action VARCHAR NOT NULL, path VARCHAR NOT NULL, new_path VARCHAR, reason VARCHAR NOT NULL,
  status VARCHAR NOT NULL, proposed_by VARCHAR NOT NULL, created_at DATETIME NOT NULL, decided_by VARCHAR,
  decided_at DATETIME, comment VARCHAR NOT NULL);
CREATE TABLE documents (id VARCHAR NOT NULL PRIMARY KEY, project_id VARCHAR NOT NULL REFERENCES projects (id)
  ON DELETE CASCADE, folder_path VARCHAR, filename VARCHAR NOT NULL, content_type VARCHAR NOT NULL,
  size INTEGER NOT NULL, content BLOB NOT NULL, text VARCHAR NOT NULL, content_hash VARCHAR NOT NULL,
  status VARCHAR NOT NULL, uploaded_by VARCHAR NOT NULL, created_at DATETIME NOT NULL, ingested_at DATETIME NOT NULL,
  ingest_count INTEGER NOT NULL);
INSERT INTO users VALUES ('01OLDUSER0000000000000000', 'oldtimer', 'scrypt$16$8$1$00$00', 'default', 'admin', '[]', 0,
  0, NULL, '2025-01-01 00:00:00', '2025-01-01 00:00:00');
INSERT INTO projects VALUES ('01OLDPROJECT000000000000', 'Legacy', 'legacy', '', 'blank', 'active', 'default',
  '01OLDUSER0000000000000000', '2025-01-01 00:00:00', '2025-01-01 00:00:00', NULL);
INSERT INTO project_members VALUES ('01OLDPROJECT000000000000', '01OLDUSER0000000000000000', 'owner',
  '2025-01-01 00:00:00');
PRAGMA user_version = 1;
"""


def make_v1(path: Path) -> None:
    con = sqlite3.connect(path)
    con.executescript(V1_SCHEMA)
    con.commit()
    con.close()


async def test_new_database_gets_current_schema_and_pragmas(tmp_path):
    svc = await Services.open(tmp_path / "new.db", settings=fast_settings())
    try:
        assert await svc.ctx.db.schema_version() == dbmod.SCHEMA_VERSION
        async with svc.ctx.db.read() as s:
            assert (await s.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await s.execute(text("PRAGMA foreign_keys"))).scalar() == 1
            assert (await s.execute(text("PRAGMA busy_timeout"))).scalar() == dbmod.BUSY_TIMEOUT_MS
            # FULL (2): with WAL every commit is synced, so a power loss keeps acknowledged writes
            assert (await s.execute(text("PRAGMA synchronous"))).scalar() == 2
    finally:
        await svc.close()


async def test_a_version_1_database_is_migrated_forward_and_keeps_its_data(tmp_path):
    path = tmp_path / "old.db"
    make_v1(path)
    svc = await Services.open(path, settings=fast_settings())
    try:
        assert await svc.ctx.db.schema_version() == dbmod.SCHEMA_VERSION
        me = await svc.auth.principal_for("oldtimer")
        project = await svc.projects.get(me, "01OLDPROJECT000000000000")
        assert project.name == "Legacy" and project.my_role == "owner"
        # v2 pieces work: events are recorded, keys track last use.
        await svc.projects.create(me, ProjectCreate(name="After upgrade"))
        async with svc.ctx.db.read() as s:
            kinds = (await s.scalars(select(DomainEventRow.kind))).all()
            cols = {r[1] for r in (await s.execute(text("PRAGMA table_info(api_keys)"))).all()}
        assert "project.created" in kinds and "last_used_at" in cols
        assert (await svc.health.ready(Principal.anonymous())).status == "ready"
    finally:
        await svc.close()


async def test_a_newer_schema_is_refused(tmp_path):
    path = tmp_path / "future.db"
    con = sqlite3.connect(path)
    con.execute(f"PRAGMA user_version = {dbmod.SCHEMA_VERSION + 5}")
    con.close()
    with pytest.raises(errors.DatabaseTooNew, match="newer") as raised:
        await Services.open(path, settings=fast_settings())
    assert str(path) in str(raised.value) and "upgrade crewos-tui" in str(raised.value)


async def test_readiness_reports_an_unmigrated_database(services):
    async with services.ctx.db.engine.begin() as conn:
        await conn.exec_driver_sql("PRAGMA user_version = 1")
    with pytest.raises(errors.Unavailable, match="version 1"):
        await services.health.ready(Principal.anonymous())


async def test_a_failing_service_call_writes_nothing(services, make_user):
    user, _ = await make_user()
    me = await services.auth.principal_for(user.username)
    await services.projects.create(me, ProjectCreate(name="Taken"))
    async with services.ctx.db.read() as s:
        before = (await s.scalar(select(ProjectRow.id).where(ProjectRow.name == "Taken")),
                  len((await s.scalars(select(DomainEventRow.id))).all()))
    with pytest.raises(errors.Conflict):
        await services.projects.create(me, ProjectCreate(name="taken"))
    async with services.ctx.db.read() as s:
        after = (await s.scalar(select(ProjectRow.id).where(ProjectRow.name == "Taken")),
                 len((await s.scalars(select(DomainEventRow.id))).all()))
    assert before == after


async def test_a_failure_after_writes_rolls_the_whole_call_back(services, make_user):
    """The project row, its owner, scaffold and event are all added before the
    handler fails; none of them may survive."""
    user, _ = await make_user()
    me = await services.auth.principal_for(user.username)

    async def explode(session, event):
        raise RuntimeError("handler failed")

    services.ctx.events.add_handler(explode)
    with pytest.raises(RuntimeError):
        await services.projects.create(me, ProjectCreate(name="Doomed", template="software"))
    async with services.ctx.db.read() as s:
        assert await s.scalar(select(ProjectRow.id).where(ProjectRow.name == "Doomed")) is None
        created = await s.scalars(select(DomainEventRow.kind).where(DomainEventRow.kind == "project.created"))
        assert created.all() == []


async def test_a_cancelled_transaction_leaves_the_write_lock_free(tmp_path):
    """A task cancelled while a statement of its write transaction runs (a job cancelled
    mid-write, a worker superseded) leaves the write lock free and the database closable.
    With plain aiosqlite, SQLAlchemy's close of that connection left a zombie holding the
    lock: the next writer got "database is locked", and the suite once hung on it."""
    import asyncio
    import threading

    from sqlalchemy import event

    database = dbmod.Database(tmp_path / "cancel.db")
    await database.migrate()
    entered, release = threading.Event(), threading.Event()

    def slow_call() -> int:  # runs on the connection's thread, inside the write transaction
        entered.set()
        release.wait(30)
        return 1

    event.listen(database.engine.sync_engine, "connect",
                 lambda conn, _record: conn.create_function("slow_call", 0, slow_call))
    await database.engine.dispose()  # later connections get the function

    async def writer() -> None:
        async with database.transaction() as s:
            await s.execute(text("SELECT slow_call()"))

    task = asyncio.create_task(writer())
    while not entered.is_set():
        await asyncio.sleep(0.01)
    task.cancel()
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with asyncio.timeout(30):  # a guard against a hang, not a measurement
        async with database.transaction() as s:  # the write lock is free again
            await s.execute(text("SELECT 1"))
        await database.close()


# ---- another process holds the write lock ---------------------------------------------------


def _hold_write_lock(path) -> sqlite3.Connection:
    """What another process's writer does: take SQLite's write lock and keep it."""
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    return other


async def _until(condition, what: str) -> None:
    import asyncio

    async with asyncio.timeout(30):  # a guard against a hang, not a measurement
        while not condition():
            await asyncio.sleep(0.01)
    assert condition(), what


async def test_a_writer_waits_past_busy_timeout_until_the_lock_is_free(tmp_path):
    """SQLite's own wait (busy_timeout) ends with "database is locked"; the transaction
    starts again with backoff instead of failing, and its body runs once, after the lock."""
    import asyncio

    database = dbmod.Database(tmp_path / "busy.db", busy_timeout_ms=10)
    await database.migrate()
    other = _hold_write_lock(tmp_path / "busy.db")
    runs = 0

    async def write() -> None:
        nonlocal runs
        async with database.transaction() as s:
            runs += 1
            await s.execute(text("PRAGMA user_version=77"))

    task = asyncio.create_task(write())
    await _until(lambda: database.busy_retries >= 3, "the writer retried")  # each try waited busy_timeout
    assert not task.done() and runs == 0
    other.rollback()
    await task
    assert runs == 1 and await database.schema_version() == 77
    other.close()
    await database.close()


async def test_past_the_deadline_a_writer_says_busy_in_one_line_and_ran_nothing(tmp_path):
    from crewos_tui.backend.errors import DatabaseLocked, Unavailable

    path = tmp_path / "busy.db"
    database = dbmod.Database(path, busy_timeout_ms=10, busy_deadline=0.3)
    await database.migrate()
    other = _hold_write_lock(path)
    ran = False
    with pytest.raises(DatabaseLocked) as caught:
        async with database.transaction():
            ran = True
    assert not ran and database.busy_retries >= 1
    assert isinstance(caught.value, Unavailable) and caught.value.status_code == 503
    message = str(caught.value)
    assert message == (f"database {path}: another process (a `crewos-tui serve`, a TUI or a script) kept it "
                       "locked; try again in a moment, or stop the other process")
    assert "\n" not in message
    other.rollback()
    async with database.transaction() as s:  # and it works again once the lock is free
        await s.execute(text("SELECT 1"))
    other.close()
    await database.close()


async def test_opening_a_database_waits_for_another_process_to_migrate_it(tmp_path):
    """Two processes starting on one new data dir: the second waits for the first's lock
    (migrate begins as a writer) and then finds the schema in place."""
    import asyncio

    path = tmp_path / "new.db"
    other = _hold_write_lock(path)
    database = dbmod.Database(path, busy_timeout_ms=10)
    task = asyncio.create_task(database.migrate())
    await _until(lambda: database.busy_retries >= 2, "migrate retried")
    other.rollback()
    assert await task == dbmod.SCHEMA_VERSION
    other.close()
    await database.close()


async def test_a_commit_that_meets_sqlite_busy_is_tried_again_and_keeps_the_transaction(tmp_path):
    """In rollback-journal mode a COMMIT needs the readers gone; SQLITE_BUSY there leaves the
    transaction open, so the driver commits again until the reader leaves (or the deadline)."""
    import asyncio

    from crewos_tui.backend.local import sqlite_driver

    path = tmp_path / "journal.db"
    setup = sqlite3.connect(path)
    setup.execute("CREATE TABLE t (x INTEGER)")
    setup.commit()
    setup.close()
    writer = await sqlite_driver.connect(path, busy_deadline=30)
    await writer.execute("PRAGMA journal_mode=DELETE")
    await writer.execute("PRAGMA busy_timeout=10")  # SQLite's own wait, per try
    reader = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM t").fetchone()  # a SHARED lock: COMMIT cannot write yet
    await writer.execute("BEGIN IMMEDIATE")
    await writer.execute("INSERT INTO t VALUES (1)")
    commit = asyncio.create_task(writer.commit())
    await _until(lambda: writer.busy_commits >= 2, "the commit was retried")
    reader.rollback()
    await commit
    assert reader.execute("SELECT count(*) FROM t").fetchone() == (1,)

    # Past the deadline the error goes up and the transaction is still there to roll back.
    writer.busy_deadline = 0.2
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM t").fetchone()
    await writer.execute("BEGIN IMMEDIATE")
    await writer.execute("INSERT INTO t VALUES (2)")
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        await writer.commit()
    assert writer.in_transaction
    await writer.rollback()
    reader.rollback()
    assert reader.execute("SELECT count(*) FROM t").fetchone() == (1,)
    reader.close()
    await writer.close()
