"""Worker leases: how one process on a database tells another that it is still alive.

Two processes may share a data dir (``crewos-tui serve`` and a local TUI). Work that
lives in a process's memory but is recorded in the database (a chat run that is
``queued`` or ``running``) carries that process's worker token. A ``worker_leases``
row per token says the process is alive until ``expires_at``; the process renews it
(``LEASE_SECONDS``, every third of that) while it has such work, and deletes it when
it closes. A sweep treats a token as gone only when its lease row is missing or
expired, or when it names a process on this host that no longer exists (a crash is
then noticed at once instead of after the lease). Never merely because it is another
process: that is what marked a live server's chat run "interrupted".

Durable agent jobs do not need this: each job row has its own lease (``jobs.py``).
Times come from the service clock (``ctx.clock``), so a test moves a lease past its
end by moving the clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from .db import is_transient
from .tables import WorkerLeaseRow

if TYPE_CHECKING:
    from .context import ServiceContext

log = logging.getLogger(__name__)

LEASE_SECONDS = 30.0
HOST = socket.gethostname()


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists on this host (one we may not signal counts)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return True  # cannot tell: assume alive, the lease still ends
    return True


class WorkerLease:
    """This process's lease for one worker token."""

    def __init__(self, ctx: ServiceContext, worker: str, seconds: float = LEASE_SECONDS) -> None:
        self.ctx = ctx
        self.worker = worker
        self.lease = timedelta(seconds=seconds)
        self.beat_seconds = seconds / 3
        self._task: asyncio.Task[None] | None = None
        self._written = False

    async def renew(self, s: AsyncSession, now: datetime) -> None:
        """Write (or extend) the lease, from ``now``, in the caller's write transaction."""
        row = await s.get(WorkerLeaseRow, self.worker)
        if row is None:
            s.add(WorkerLeaseRow(worker=self.worker, host=HOST, pid=os.getpid(), started_at=now, heartbeat_at=now,
                                 expires_at=now + self.lease))
        else:
            row.heartbeat_at, row.expires_at = now, now + self.lease
        self._written = True

    def keep_alive(self, busy: Callable[[], bool]) -> None:
        """Renew in the background for as long as ``busy()`` says there is work."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._beat(busy), name=f"lease {self.worker}")

    async def _beat(self, busy: Callable[[], bool]) -> None:
        while True:
            await asyncio.sleep(self.beat_seconds)
            if not busy():
                return
            try:
                async with self.ctx.db.transaction() as s:
                    await self.renew(s, self.ctx.clock.now())
            except Exception as exc:  # noqa: BLE001 - the lease has slack; try at the next beat
                if is_transient(exc):
                    log.warning("lease %s: the database is busy; renewing at the next beat", self.worker)
                else:
                    log.exception("lease %s: renewing failed", self.worker)

    async def release(self) -> None:
        """Stop renewing and delete the lease: this process's unfinished work is orphaned now."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
            self._task = None
        if not self._written:
            return
        self._written = False
        try:
            async with self.ctx.db.transaction() as s:
                await s.execute(delete(WorkerLeaseRow).where(col(WorkerLeaseRow.worker) == self.worker))
        except Exception:  # noqa: BLE001 - closing anyway; the lease then ends by itself
            log.warning("lease %s: could not be released; it ends by itself", self.worker)


async def gone_workers(s: AsyncSession, workers: Iterable[str], now: datetime, *, forget: bool = False) -> set[str]:
    """Those of ``workers`` whose process is gone: no lease, an expired one, or a process
    on this host that no longer exists. With ``forget`` (a write transaction) their lease
    rows are deleted on the way."""
    wanted = set(workers)
    if not wanted:
        return set()
    rows = (await s.scalars(select(WorkerLeaseRow).where(col(WorkerLeaseRow.worker).in_(wanted)))).all()
    alive = set()
    for row in rows:
        dead = row.expires_at < now or (row.host == HOST and not pid_alive(row.pid))
        if dead and forget:
            await s.delete(row)
        elif not dead:
            alive.add(row.worker)
    return wanted - alive


async def forget_expired(s: AsyncSession, now: datetime) -> None:
    """Delete the leases that ran out (a process that crashed with nothing left to sweep)."""
    await s.execute(delete(WorkerLeaseRow).where(col(WorkerLeaseRow.expires_at) < now))
