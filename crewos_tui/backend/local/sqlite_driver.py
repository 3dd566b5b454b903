"""The aiosqlite connection the engine uses: one that a cancelled task cannot leave
holding SQLite's write lock.

aiosqlite runs each SQLite call on the connection's own thread. When a task is cancelled
while a statement of its transaction is open (a job cancelled in the middle of a progress
write, a Textual worker superseded or ended on quit), SQLAlchemy does not roll back: it
closes the connection. SQLite closes a connection that still has an open statement only
in name (``sqlite3_close_v2`` makes it a "zombie"): the transaction, and with it the write
lock, stays until that statement's cursor is garbage-collected. Every later writer then
fails with "database is locked" after ``busy_timeout``, and a shutdown that waits for them
waits for good. That was the hang of the board's jobs-panel test.

So ``close`` rolls back first: SQLite aborts the open statements of a rolled-back
transaction, and the close that follows is a real one.
``tests/test_db.py::test_a_cancelled_transaction_leaves_the_write_lock_free`` shows it.

``commit`` waits out SQLITE_BUSY: a COMMIT that meets it (it needs readers gone before
it can write the file: a rollback journal, or a WAL that cannot be used) has changed
nothing, and SQLite keeps the transaction open, so COMMIT is simply tried again, with
jittered backoff, until ``busy_deadline``; then the error goes up (``db.py`` says it in
one line). Nothing else is retried here.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import sqlite3
import time
from functools import partial
from pathlib import Path

import aiosqlite

from . import sqlite_errors

#: aiosqlite's default number of rows fetched per round trip when iterating.
ITER_CHUNK_SIZE = 64
#: Jittered exponential backoff between tries on SQLITE_BUSY: the first pause, the longest (s).
BACKOFF_FIRST = 0.01
BACKOFF_MAX = 0.5


def backoff(attempt: int) -> float:
    """The pause after try ``attempt`` (0, 1, ...): doubling, jittered so two waiting
    writers drift apart instead of waking together."""
    return min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** attempt) * random.uniform(0.5, 1.5)


class RollbackOnCloseConnection(aiosqlite.Connection):
    #: How long ``commit`` tries again on SQLITE_BUSY (s); set by ``connect``.
    busy_deadline: float = 0.0
    #: COMMITs that met SQLITE_BUSY and were tried again, over this connection's life.
    busy_commits: int = 0

    async def commit(self) -> None:
        deadline = time.monotonic() + self.busy_deadline
        attempt = 0
        while True:
            try:
                await super().commit()
                return
            except sqlite3.OperationalError as exc:
                left = deadline - time.monotonic()
                if not sqlite_errors.is_busy(exc) or left <= 0:
                    raise
            self.busy_commits += 1
            await asyncio.sleep(min(backoff(attempt), left))
            attempt += 1

    async def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(sqlite3.Error, ValueError):  # ValueError: already closed
                await self._execute(self._rollback_open_transaction)
        await super().close()

    def _rollback_open_transaction(self) -> None:  # on the connection's thread
        connection = self._connection
        if connection is not None and connection.in_transaction:
            connection.rollback()


async def connect(path: Path | str, *, busy_deadline: float = 0.0) -> RollbackOnCloseConnection:
    """A connection to the SQLite file at ``path`` (SQLAlchemy's ``async_creator``)."""
    # check_same_thread=False, as SQLAlchemy's aiosqlite dialect connects: its adapter
    # sets the isolation level from the event loop's thread.
    connection = RollbackOnCloseConnection(partial(sqlite3.connect, str(path), check_same_thread=False),
                                           ITER_CHUNK_SIZE)
    connection._thread.daemon = True  # as the dialect does: a stuck call never keeps the process alive
    connection.busy_deadline = busy_deadline
    await connection  # starts its thread and opens the file
    return connection
