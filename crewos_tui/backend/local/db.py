"""The SQLite database: engine, pragmas, schema version and forward migrations.

SQLite specifics (pragmas, ``user_version``) live here and nowhere else. The
schema version is ``PRAGMA user_version``. A new database gets the whole current
schema at once; an older one is walked forward one step at a time, each step in
its own transaction. Later slices add a step at the end of ``MIGRATIONS``.
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlmodel import SQLModel

from ...paths import PRIVATE_FILE_MODE, private_dir
from . import sqlite_driver, tables

BUSY_TIMEOUT_MS = 5000

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
    # idempotent creates: the key, request hash and answer of each create made with a key
    _add_tables("idempotency_keys"),
]
SCHEMA_VERSION = len(MIGRATIONS) + 1


def _on_connect(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, issue BEGIN (see _on_begin).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA synchronous=NORMAL")
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
    return engine


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


def _migrate(conn: Connection) -> int:
    version = _user_version(conn)
    if version > SCHEMA_VERSION:
        raise RuntimeError(
            f"database schema version {version} is newer than this crewos-tui understands ({SCHEMA_VERSION}); "
            "upgrade crewos-tui"
        )
    if version == 0:
        has_tables = conn.exec_driver_sql(
            "SELECT count(*) FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
        ).scalar()
        if has_tables:
            raise RuntimeError("the database file has tables but no crewos-tui schema version")
        SQLModel.metadata.create_all(conn)
        conn.exec_driver_sql(f"PRAGMA user_version={SCHEMA_VERSION}")
        return SCHEMA_VERSION
    while version < SCHEMA_VERSION:
        MIGRATIONS[version - 1](conn)
        version += 1
        conn.exec_driver_sql(f"PRAGMA user_version={version}")
    return version


class Database:
    """The engine and a session factory; ``transaction()`` is one unit of work."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.engine = make_engine(self.path)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    async def migrate(self) -> int:
        """Create or migrate the schema; returns the version now in force."""
        create_private(self.path)
        async with self.engine.begin() as conn:
            return await conn.run_sync(_migrate)

    async def schema_version(self) -> int:
        async with self.engine.connect() as conn:
            return int((await conn.execute(text("PRAGMA user_version"))).scalar() or 0)

    def _joined(self) -> AsyncSession | None:
        """The session of the enclosing transaction this task has open on this database."""
        current = _open.get()
        if current is not None and current[0] is self and current[1] is asyncio.current_task():
            return current[2]
        return None

    @asynccontextmanager
    async def transaction(self, *, enclosing: bool = False) -> AsyncIterator[AsyncSession]:
        """One service call = one transaction: commit on success, roll back on any error.

        ``enclosing``: the service calls made inside (by this task) are part of this
        transaction: their transactions and reads join it, it commits or rolls back all
        of them. An idempotent create (``local/idempotency.py``) records its key so."""
        joined = self._joined()
        if joined is not None:
            yield joined
            return
        async with self._sessions() as session:
            await session.connection(execution_options={"crewos_write": True})
            task = asyncio.current_task()
            token = _open.set((self, task, session)) if enclosing and task is not None else None
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
            finally:
                if token is not None:
                    _open.reset(token)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A read-only session (no commit); inside an enclosing transaction of this task, that
        one (so a call reads what its own transaction wrote)."""
        joined = self._joined()
        if joined is not None:
            yield joined
            return
        async with self._sessions() as session:
            yield session

    async def close(self) -> None:
        await self.engine.dispose()
