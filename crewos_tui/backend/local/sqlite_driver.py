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
"""

from __future__ import annotations

import contextlib
import sqlite3
from functools import partial
from pathlib import Path

import aiosqlite

#: aiosqlite's default number of rows fetched per round trip when iterating.
ITER_CHUNK_SIZE = 64


class RollbackOnCloseConnection(aiosqlite.Connection):
    async def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(sqlite3.Error, ValueError):  # ValueError: already closed
                await self._execute(self._rollback_open_transaction)
        await super().close()

    def _rollback_open_transaction(self) -> None:  # on the connection's thread
        connection = self._connection
        if connection is not None and connection.in_transaction:
            connection.rollback()


async def connect(path: Path | str) -> aiosqlite.Connection:
    """A connection to the SQLite file at ``path`` (SQLAlchemy's ``async_creator``)."""
    # check_same_thread=False, as SQLAlchemy's aiosqlite dialect connects: its adapter
    # sets the isolation level from the event loop's thread.
    connection = RollbackOnCloseConnection(partial(sqlite3.connect, str(path), check_same_thread=False),
                                           ITER_CHUNK_SIZE)
    connection._thread.daemon = True  # as the dialect does: a stuck call never keeps the process alive
    return await connection
