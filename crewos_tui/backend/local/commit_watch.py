"""Notices commits made by other processes on the same database file.

A local TUI and a ``crewos-tui serve`` (or a second TUI, or ``crewos-tui users``) may
share a data dir. The service layer's after-commit listeners hear only this process's
commits, so without this an open screen and the unread badge would not see the other
process's work until the user reloads.

``CommitWatcher`` polls ``PRAGMA data_version`` on a connection of its own every
``WATCH_SECONDS``. That number changes when any other connection commits, so an idle
poll is one cheap statement and reads nothing. When it changes, the watcher reads the
``domain_events`` rows added since the last one it saw, by ``rowid`` (the order
writers committed them in: each insert happens under the write lock, and events are
never deleted), skips those this process emitted itself (its own listeners heard
them already), and hands the rest to the event bus's after-commit listeners, as if
they had been committed here. So the app's ``data_changed`` signal names the
projects another process changed, and the job runner hears another process's new
jobs and cancels at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from . import sqlite_driver
from .events import DomainEvent

if TYPE_CHECKING:
    from pathlib import Path

    from .events import EventBus

log = logging.getLogger(__name__)

WATCH_SECONDS = 1.0
#: Rows read per round when another process wrote a lot at once.
BATCH = 500

_COLUMNS = "rowid, id, kind, actor_id, actor, auth_method, resource_type, resource_id, project_id, data, created_at"


def _when(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)
    except ValueError:
        return None


def _event(row: tuple[Any, ...]) -> DomainEvent:
    _rowid, id_, kind, actor_id, actor, auth_method, resource_type, resource_id, project_id, data, created = row
    try:
        payload = json.loads(data) if isinstance(data, str) else dict(data or {})
    except ValueError:
        payload = {}
    return DomainEvent(id=id_, kind=kind, actor_id=actor_id, actor=actor or "", auth_method=auth_method or "",
                       resource_type=resource_type, resource_id=resource_id, project_id=project_id,
                       data=payload if isinstance(payload, dict) else {}, created_at=_when(created))


class CommitWatcher:
    def __init__(self, path: Path, events: EventBus, *, interval: float | None = None) -> None:
        self.path = path
        self.events = events
        self.interval = WATCH_SECONDS if interval is None else interval
        #: Events of other processes handed to the listeners so far (diagnostics, tests).
        self.delivered = 0
        self._conn: sqlite_driver.RollbackOnCloseConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._version: int | None = None
        self._last_rowid = 0

    async def start(self) -> None:
        if self._task is not None:
            return
        self._conn = await sqlite_driver.connect(self.path)
        await self._conn.execute("PRAGMA query_only=1")
        self._version = await self._data_version()
        async with self._conn.execute("SELECT coalesce(max(rowid), 0) FROM domain_events") as cur:
            row = await cur.fetchone()
        self._last_rowid = int(row[0]) if row else 0
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="commit-watch")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.close()

    async def _data_version(self) -> int:
        assert self._conn is not None
        async with self._conn.execute("PRAGMA data_version") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.poll()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - a busy or vanished file: try again next round
                log.warning("watching for other processes' commits failed; trying again", exc_info=True)

    async def poll(self) -> int:
        """One round: hand on what other processes committed since the last; how many events."""
        assert self._conn is not None
        version = await self._data_version()
        if version == self._version:
            return 0
        self._version = version
        handed = 0
        while True:
            async with self._conn.execute(f"SELECT {_COLUMNS} FROM domain_events WHERE rowid > ? ORDER BY rowid "
                                          f"LIMIT {BATCH}", (self._last_rowid,)) as cur:
                rows = list(await cur.fetchall())
            if not rows:
                return handed
            self._last_rowid = int(rows[-1][0])
            for row in rows:
                event = _event(tuple(row))
                if self.events.emitted_here(event.id):
                    continue
                self.events.deliver(event)
                handed += 1
                self.delivered += 1
            if len(rows) < BATCH:
                return handed
