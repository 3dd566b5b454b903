"""The SQLite database: engine, pragmas, schema version and forward migrations.

SQLite specifics (pragmas, ``user_version``) live here and nowhere else. The
schema version is ``PRAGMA user_version``. A new database gets the whole current
schema at once; an older one is walked forward one step at a time, each step in
its own transaction. Later slices add a step at the end of ``MIGRATIONS``.

**Two processes on one file** (``crewos-tui serve`` and a local TUI or script): every
writer starts with ``BEGIN IMMEDIATE``, so writers queue for SQLite's one write lock.
SQLite's own wait (``busy_timeout``) is a sleep-and-poll that is not fair, so under
contention a writer can wait past it; ``Database`` then starts again with jittered
backoff until ``busy_deadline`` and only then answers ``DatabaseLocked`` (503, one line
naming the file). Only the start is retried here, where nothing of the transaction has
run; a COMMIT that meets SQLITE_BUSY is retried by the driver (``sqlite_driver.py``),
where SQLite keeps the transaction whole. The body of a transaction is never re-run.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, ExceptionContext
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlmodel import SQLModel

from ...paths import PRIVATE_FILE_MODE, private_dir
from ..errors import DatabaseLocked
from . import sqlite_driver, sqlite_errors, tables

#: SQLite's own wait for the write lock, per attempt (``PRAGMA busy_timeout``).
BUSY_TIMEOUT_MS = 5000
#: How long a writer keeps trying to start (or commit) before it answers ``DatabaseLocked``.
BUSY_DEADLINE = 30.0
#: ``PRAGMA synchronous`` of every connection. With WAL, NORMAL syncs only at checkpoints, so
#: a power loss (not a crash) can take the last commits; FULL syncs the WAL at each commit.
#: Every state change writes its audit event (and a ledger move its postings) in the same
#: transaction, so durable audit and ledger writes mean durable commits: FULL, for all of
#: them. It costs one fsync per commit, measured in benchmarks/durability.py
#: (docs/ARCHITECTURE.md, "Acknowledged writes survive a power loss").
SYNCHRONOUS = "FULL"

T = TypeVar("T")


def is_transient(exc: BaseException) -> bool:
    """A failure that waiting can cure: the database was busy (here or in the driver)."""
    return isinstance(exc, DatabaseLocked) or sqlite_errors.is_busy(exc)

#: The enclosing transaction this task has open, if any: (database, task, session).
#: Transactions and reads opened inside it join it (``transaction(enclosing=True)``).
_open: ContextVar[tuple[Database, asyncio.Task[Any], AsyncSession] | None] = ContextVar("crewos_open_tx",
                                                                                      default=None)


def _add_tables(*names: str) -> Callable[[Connection], None]:
    def step(conn: Connection) -> None:
        SQLModel.metadata.create_all(conn, tables=[SQLModel.metadata.tables[n] for n in names], checkfirst=True)

    return step


def _v1_to_v2(conn: Connection) -> None:
    # v2: domain events, and API keys remember when they were last used.
    _add_tables(tables.DomainEventRow.__tablename__)(conn)
    cols = {r[1] for r in conn.exec_driver_sql("PRAGMA table_info(api_keys)")}
    if "last_used_at" not in cols:
        conn.exec_driver_sql("ALTER TABLE api_keys ADD COLUMN last_used_at DATETIME")


#: MIGRATIONS[i] takes a database from version i+1 to version i+2.
MIGRATIONS: list[Callable[[Connection], None]] = [
    _v1_to_v2,
    # tasks slice: tasks, dependencies, timeline, agent runs, durable agent jobs
    _add_tables("tasks", "task_dependencies", "task_events", "task_agent_runs", "agent_jobs", "agent_job_events"),
    # tokenization slice: token settings, wallets, requests, approvals and the append-only
    # ledger (its SQLite triggers come with the tables: see sqlite_guards)
    _add_tables("token_settings", "token_wallets", "token_requests", "token_request_approvals",
                "token_transactions", "token_postings"),
    # notifications slice: each user's notifications and notification preferences
    _add_tables("notifications", "notification_preferences"),
    # review slice: review queue (items, requested reviewers, attachments, decisions),
    # validation runs, scenario test runs and capability-gap reports/findings
    _add_tables("review_items", "review_requested_reviewers", "review_attachments", "review_decisions",
                "validation_runs", "scenario_runs", "scenario_results", "capability_gap_reports",
                "capability_gap_findings"),
    # admin slice: the hash-chained audit log (its append-only triggers come with the table:
    # see sqlite_guards), settings, policies, LLM routing, budgets, usage, the answer cache
    _add_tables("audit_events", "admin_settings", "agent_namespace_policies", "team_tool_configs", "llm_routes",
                "token_budgets", "llm_usage_daily", "answer_cache", "answer_cache_counters", "data_versions",
                "prompt_standards"),
    # chat slice: chat sessions, their messages, shares, feedback and chat agent runs
    _add_tables("chat_sessions", "chat_messages", "session_shares", "message_feedback", "chat_runs"),
    # knowledge slice: namespaces, entries (+ versions, tags, the FTS5 index and its triggers:
    # see fts.py), source files, wiki links, governance, meditation and web-research runs;
    # generated artifacts and their revisions
    _add_tables("knowledge_namespaces", "knowledge_files", "knowledge_entries", "knowledge_entry_tags",
                "knowledge_entry_versions", "knowledge_links", "knowledge_governance", "knowledge_meditation_runs",
                "knowledge_research_runs", "knowledge_research_candidates", "artifacts", "artifact_revisions"),
    # two processes on one data dir: a lease per process that owns chat runs, so a sweep
    # interrupts only the runs of a process that is gone (see leases.py)
    _add_tables("worker_leases"),
    # idempotent creates: the key, request hash and answer of each create made with a key
    _add_tables("idempotency_keys"),
]
SCHEMA_VERSION = len(MIGRATIONS) + 1


def _on_connect(busy_timeout_ms: int, dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, issue BEGIN (see _on_begin).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    cur.execute(f"PRAGMA synchronous={SYNCHRONOUS}")
    cur.close()


def _on_begin(conn: Connection) -> None:
    # Writers take the write lock up front so two of them queue on busy_timeout
    # instead of one failing half-way with "database is locked".
    if conn.get_execution_options().get("crewos_write"):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")


def make_engine(path: Path | str, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS,
                busy_deadline: float = BUSY_DEADLINE) -> AsyncEngine:
    """An async engine on the SQLite file at ``path`` with our pragmas on every connection."""
    # async_creator: connections that a cancelled task cannot leave holding the write lock,
    # and whose COMMIT waits out SQLITE_BUSY until the deadline.
    engine = create_async_engine(f"sqlite+aiosqlite:///{path}", async_creator=functools.partial(
        sqlite_driver.connect, path, busy_deadline=busy_deadline))
    event.listen(engine.sync_engine, "connect", functools.partial(_on_connect, busy_timeout_ms))
    event.listen(engine.sync_engine, "begin", _on_begin)
    event.listen(engine.sync_engine, "handle_error", functools.partial(_on_error, Path(path)))
    return engine


def _on_error(path: Path, context: ExceptionContext) -> BaseException | None:
    # Every statement, connect and commit: a failure of the file itself (disk full,
    # read-only, damaged, I/O) becomes one DatabaseError line. A lock held by another
    # process stays an OperationalError here, for the retry around BEGIN IMMEDIATE;
    # Database._translated turns what outlives the retries into DatabaseLocked.
    return sqlite_errors.database_error(context.original_exception, path, busy=False)


def create_private(path: Path) -> None:
    """Make a missing folder of the database 0700 and a missing database file 0600 (empty).

    SQLite gives the ``-wal`` and ``-shm`` files it creates the database file's mode, so they
    are 0600 too. What already exists keeps its mode; ``crewos-tui doctor`` warns about it.
    """
    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:
        return
    os.close(fd)
    path.chmod(PRIVATE_FILE_MODE)


def _user_version(conn: Connection) -> int:
    return int(conn.exec_driver_sql("PRAGMA user_version").scalar() or 0)


def _migrate(path: Path, conn: Connection) -> int:
    version = _user_version(conn)
    if version > SCHEMA_VERSION:
        raise sqlite_errors.too_new(path, version, SCHEMA_VERSION)
    if version == 0:
        has_tables = conn.exec_driver_sql(
            "SELECT count(*) FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
        ).scalar()
        if has_tables:
            raise sqlite_errors.foreign(path)
        SQLModel.metadata.create_all(conn)
        conn.exec_driver_sql(f"PRAGMA user_version={SCHEMA_VERSION}")
        return SCHEMA_VERSION
    while version < SCHEMA_VERSION:
        MIGRATIONS[version - 1](conn)
        version += 1
        conn.exec_driver_sql(f"PRAGMA user_version={version}")
    return version


_P = ParamSpec("_P")
_T = TypeVar("_T")


def _translated(
    method: Callable[Concatenate[Database, _P], AbstractAsyncContextManager[_T]],
) -> Callable[Concatenate[Database, _P], AbstractAsyncContextManager[_T]]:
    """Wrap an async context manager method: a SQLite error that reaches its caller
    after the engine's hook (a lock that outlived the retries) becomes DatabaseLocked."""

    @asynccontextmanager
    @functools.wraps(method)
    async def wrapper(self: Database, *args: _P.args, **kwargs: _P.kwargs) -> AsyncIterator[_T]:
        try:
            async with method(self, *args, **kwargs) as value:
                yield value
        except DBAPIError as exc:
            error = sqlite_errors.database_error(exc, self.path)
            if error is None:
                raise
            raise error from exc

    return wrapper


class Database:
    """The engine and a session factory; ``transaction()`` is one unit of work.

    Every failure of the file itself reaches callers as a ``DatabaseError``
    (``backend/errors.py``): one line naming the file and what to do
    (``sqlite_errors.py``)."""

    def __init__(self, path: Path | str, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS,
                 busy_deadline: float = BUSY_DEADLINE) -> None:
        self.path = Path(path)
        self.busy_deadline = busy_deadline
        #: Starts of a write that met SQLITE_BUSY and were tried again (diagnostics, tests).
        self.busy_retries = 0
        self.engine = make_engine(self.path, busy_timeout_ms=busy_timeout_ms, busy_deadline=busy_deadline)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    async def migrate(self) -> int:
        """Create or migrate the schema; returns the version now in force."""
        try:
            create_private(self.path)
        except OSError as exc:
            raise sqlite_errors.os_error(exc, self.path) from exc

        async def begin() -> AsyncConnection:
            conn = await self.engine.connect()
            try:  # a writer from the start: two processes opening one new file queue here
                await (await conn.execution_options(crewos_write=True)).begin()
            except BaseException:
                await conn.close()
                raise
            return conn

        try:
            conn = await self._retry_busy(begin)
            try:
                with self._busy_is_one_line():
                    version = await conn.run_sync(functools.partial(_migrate, self.path))
                    await conn.commit()
                return version
            finally:
                await conn.close()  # rolls back what did not commit
        except DBAPIError as exc:
            error = sqlite_errors.database_error(exc, self.path)
            if error is None:
                raise
            raise error from exc

    async def schema_version(self) -> int:
        async with self.engine.connect() as conn:
            return int((await conn.execute(text("PRAGMA user_version"))).scalar() or 0)

    def _joined(self) -> AsyncSession | None:
        """The session of the enclosing transaction this task has open on this database."""
        current = _open.get()
        if current is not None and current[0] is self and current[1] is asyncio.current_task():
            return current[2]
        return None

    @_translated
    @asynccontextmanager
    async def transaction(self, *, enclosing: bool = False) -> AsyncIterator[AsyncSession]:
        """One service call = one transaction: commit on success, roll back on any error.

        It begins with ``BEGIN IMMEDIATE``, retried while another process holds the write
        lock (see the module docstring); the body runs once.

        ``enclosing``: the service calls made inside (by this task) are part of this
        transaction: their transactions and reads join it, it commits or rolls back all
        of them. An idempotent create (``local/idempotency.py``) records its key so."""
        joined = self._joined()
        if joined is not None:
            yield joined
            return
        session = await self._retry_busy(self._write_session)
        async with session:
            task = asyncio.current_task()
            token = _open.set((self, task, session)) if enclosing and task is not None else None
            with self._busy_is_one_line():
                try:
                    yield session
                    await session.commit()
                except BaseException:
                    await session.rollback()
                    raise
                finally:
                    if token is not None:
                        _open.reset(token)

    async def _retry_busy(self, start: Callable[[], Awaitable[T]]) -> T:
        """``await start()`` again while it fails with SQLITE_BUSY, with jittered backoff,
        until ``busy_deadline`` has passed; then ``DatabaseLocked``. Only for a ``start`` that
        has done nothing when it fails: a BEGIN that did not begin."""
        deadline = time.monotonic() + self.busy_deadline
        attempt = 0
        while True:
            try:
                return await start()
            except OperationalError as exc:
                left = deadline - time.monotonic()
                if not sqlite_errors.is_busy(exc):
                    raise
                if left <= 0:
                    raise sqlite_errors.locked(self.path) from exc
            self.busy_retries += 1
            await asyncio.sleep(min(sqlite_driver.backoff(attempt), left))
            attempt += 1

    async def _write_session(self) -> AsyncSession:
        """A session whose transaction has begun and holds the write lock."""
        session = self._sessions()
        try:
            await session.connection(execution_options={"crewos_write": True})
        except BaseException:
            await session.close()
            raise
        return session

    @_translated
    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A read-only session (no commit); inside an enclosing transaction of this task, that
        one (so a call reads what its own transaction wrote)."""
        joined = self._joined()
        if joined is not None:
            yield joined
            return
        async with self._sessions() as session:
            with self._busy_is_one_line():
                yield session

    @contextlib.contextmanager
    def _busy_is_one_line(self) -> Iterator[None]:
        # SQLITE_BUSY after the start (a COMMIT past the driver's deadline, a rare reader):
        # not retried here (the body has run), but said in one line like the start's.
        try:
            yield
        except OperationalError as exc:
            if sqlite_errors.is_busy(exc):
                raise sqlite_errors.locked(self.path) from exc
            raise

    async def close(self) -> None:
        await self.engine.dispose()
