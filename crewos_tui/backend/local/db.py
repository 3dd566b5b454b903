"""The SQLite database: engine, pragmas, schema version and forward migrations.

SQLite specifics (pragmas, ``user_version``) live here and nowhere else. The
schema version is ``PRAGMA user_version``. A new database gets the whole current
schema at once; an older one is walked forward one step at a time, each step in
its own transaction. Later slices add a step at the end of ``MIGRATIONS``.
"""

from __future__ import annotations

import functools
import os
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, ExceptionContext
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlmodel import SQLModel

from ...paths import PRIVATE_FILE_MODE, private_dir
from . import sqlite_driver, sqlite_errors, tables

BUSY_TIMEOUT_MS = 5000
#: ``PRAGMA synchronous`` of every connection. With WAL, NORMAL syncs only at checkpoints, so
#: a power loss (not a crash) can take the last commits; FULL syncs the WAL at each commit.
#: Every state change writes its audit event (and a ledger move its postings) in the same
#: transaction, so durable audit and ledger writes mean durable commits: FULL, for all of
#: them. It costs one fsync per commit, measured in benchmarks/durability.py
#: (docs/ARCHITECTURE.md, "Acknowledged writes survive a power loss").
SYNCHRONOUS = "FULL"


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
]
SCHEMA_VERSION = len(MIGRATIONS) + 1


def _on_connect(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, issue BEGIN (see _on_begin).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cur.execute(f"PRAGMA synchronous={SYNCHRONOUS}")
    cur.close()


def _on_begin(conn: Connection) -> None:
    # Writers take the write lock up front so two of them queue on busy_timeout
    # instead of one failing half-way with "database is locked".
    if conn.get_execution_options().get("crewos_write"):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")


def make_engine(path: Path | str) -> AsyncEngine:
    """An async engine on the SQLite file at ``path`` with our pragmas on every connection."""
    # async_creator: connections that a cancelled task cannot leave holding the write lock.
    engine = create_async_engine(f"sqlite+aiosqlite:///{path}",
                                 async_creator=functools.partial(sqlite_driver.connect, path))
    event.listen(engine.sync_engine, "connect", _on_connect)
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

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.engine = make_engine(self.path)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    async def migrate(self) -> int:
        """Create or migrate the schema; returns the version now in force."""
        try:
            create_private(self.path)
        except OSError as exc:
            raise sqlite_errors.os_error(exc, self.path) from exc
        try:
            async with self.engine.begin() as conn:
                return await conn.run_sync(functools.partial(_migrate, self.path))
        except DBAPIError as exc:
            error = sqlite_errors.database_error(exc, self.path)
            if error is None:
                raise
            raise error from exc

    async def schema_version(self) -> int:
        async with self.engine.connect() as conn:
            return int((await conn.execute(text("PRAGMA user_version"))).scalar() or 0)

    @_translated
    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One service call = one transaction: commit on success, roll back on any error."""
        async with self._sessions() as session:
            await session.connection(execution_options={"crewos_write": True})
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    @_translated
    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A read-only session (no commit)."""
        async with self._sessions() as session:
            yield session

    async def close(self) -> None:
        await self.engine.dispose()
