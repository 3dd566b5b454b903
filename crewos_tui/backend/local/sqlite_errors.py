"""SQLite failures as one line that names the database file and says what to do.

``database_error(exc, path)`` turns a ``sqlite3`` error (or an ``OSError`` on the way to
the file) into a ``backend/errors.py`` ``DatabaseError``: disk full, read-only file or
folder, damaged file, locked by another process, a failed disk read or write. It reads
SQLite's result code (``sqlite_errorcode``; the message only when there is none).
``db.py`` applies it centrally: an engine ``handle_error`` hook for every statement,
connect and commit, and ``Database.transaction()``/``read()``/``migrate()`` for what gets
past the hook (a lock that outlived the retries). The schema checks of ``migrate`` use
``too_new``/``foreign`` below. Standard library only: the CLI's backup and restore use it too.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

from ... import __version__
from ..errors import (
    DatabaseDamaged,
    DatabaseError,
    DatabaseForeign,
    DatabaseFull,
    DatabaseLocked,
    DatabaseReadOnly,
    DatabaseTooNew,
)

# SQLite's primary result codes (https://sqlite.org/rescode.html).
SQLITE_PERM = 3
SQLITE_BUSY = 5
SQLITE_LOCKED = 6
SQLITE_READONLY = 8
SQLITE_IOERR = 10
SQLITE_CORRUPT = 11
SQLITE_FULL = 13
SQLITE_CANTOPEN = 14
SQLITE_NOTADB = 26
SQLITE_READONLY_DBMOVED = SQLITE_READONLY | (4 << 8)

#: The result code of a message, for a sqlite3 error without ``sqlite_errorcode``.
_BY_MESSAGE = (
    ("database or disk is full", SQLITE_FULL),
    ("readonly database", SQLITE_READONLY),
    ("unable to open database file", SQLITE_CANTOPEN),
    ("file is not a database", SQLITE_NOTADB),
    ("database disk image is malformed", SQLITE_CORRUPT),
    ("database is locked", SQLITE_BUSY),
    ("database table is locked", SQLITE_LOCKED),
    ("disk i/o error", SQLITE_IOERR),
)

#: What a client of a server is told to do when only the server's operator can act.
_OPERATOR = "the server's operator must fix it (the server's log says how)"


def _make(cls: type[DatabaseError], path: Path, problem: str, fix: str, client_fix: str = _OPERATOR) -> DatabaseError:
    return cls(f"database {path}: {problem}; {fix}", path=str(path),
               client_detail=f"the server's database {path.name}: {problem}; {client_fix}")


def result_code(exc: BaseException) -> int | None:
    """SQLite's extended result code of a sqlite3 error (or of the error SQLAlchemy wraps)."""
    exc = getattr(exc, "orig", None) or exc
    if not isinstance(exc, sqlite3.Error):
        return None
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code
    message = str(exc).lower()
    return next((c for marker, c in _BY_MESSAGE if marker in message), None)


def is_busy(exc: BaseException) -> bool:
    """Another connection holds the lock (SQLITE_BUSY or SQLITE_LOCKED)."""
    code = result_code(exc)
    return code is not None and code & 0xFF in (SQLITE_BUSY, SQLITE_LOCKED)


def is_damage(exc: BaseException) -> bool:
    """The file is not a database or its pages are malformed (SQLITE_NOTADB, SQLITE_CORRUPT)."""
    code = result_code(exc)
    return code is not None and code & 0xFF in (SQLITE_CORRUPT, SQLITE_NOTADB)


def _writable(path: Path) -> bool:
    return os.access(path, os.W_OK)


def _read_only(path: Path, message: str, *, cannot_open: bool) -> DatabaseError:
    folder = path.parent
    if not folder.is_dir():
        return _make(DatabaseReadOnly, path, f"its folder {folder} does not exist",
                     "create it, or choose another data dir (--data-dir)")
    if not _writable(folder):
        return _make(DatabaseReadOnly, path,
                     f"its folder {folder} is read-only (SQLite keeps the -wal and -shm files next to the database)",
                     f"make the folder writable (chmod u+w {folder}), or choose another data dir (--data-dir)")
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if file.exists() and not _writable(file):
            return _make(DatabaseReadOnly, path, f"the file {file.name} is read-only",
                         f"make it writable (chmod u+w {file}), or choose another data dir (--data-dir)")
    if cannot_open:
        return _make(DatabaseReadOnly, path, f"SQLite cannot open it ({message})",
                     "check that the file and its folder are yours and writable")
    return _make(DatabaseReadOnly, path, f"SQLite refused to write ({message})",
                 "check that the file and its folder are yours and writable, then try again")


def database_error(exc: BaseException, path: Path | str, *, busy: bool = True) -> DatabaseError | None:
    """The ``DatabaseError`` for ``exc`` on the database at ``path``, or None when ``exc``
    is not a failure of the file (a constraint, a bad query: the caller's own business).
    With ``busy=False`` a lock held by another process stays as it is (it is retried)."""
    path = Path(path)
    if isinstance(exc, DatabaseError):
        return exc
    if isinstance(exc, OSError) and not isinstance(exc, sqlite3.Error):
        return os_error(exc, path)
    code = result_code(exc)
    if code is None:
        return None
    message = str(getattr(exc, "orig", None) or exc)
    primary = code & 0xFF
    if primary == SQLITE_FULL:
        return _make(DatabaseFull, path, "the disk is full, so the last change was not saved",
                     "free some disk space, then try again", "the server's operator must free disk space")
    if code == SQLITE_READONLY_DBMOVED:
        return _make(DatabaseReadOnly, path, "the file was moved or deleted while crewos-tui had it open",
                     "put it back, or restart crewos-tui")
    if primary in (SQLITE_READONLY, SQLITE_PERM):
        return _read_only(path, message, cannot_open=False)
    if primary == SQLITE_CANTOPEN:
        return _read_only(path, message, cannot_open=True)
    if primary in (SQLITE_CORRUPT, SQLITE_NOTADB):
        return damaged(path, message)
    if primary in (SQLITE_BUSY, SQLITE_LOCKED):
        return locked(path) if busy else None
    if primary == SQLITE_IOERR:
        return _make(DatabaseError, path, f"a disk read or write failed ({message})",
                     "check the disk, then run `crewos-tui doctor`")
    return None


def locked(path: Path) -> DatabaseError:
    """Another process kept the write lock for longer than the retries wait."""
    return _make(DatabaseLocked, path, "another process (a `crewos-tui serve`, a TUI or a script) kept it locked",
                 "try again in a moment, or stop the other process", "try again in a moment")


def os_error(exc: OSError, path: Path) -> DatabaseError:
    """An ``OSError`` making the database's folder or file (before SQLite opens it)."""
    where = Path(exc.filename) if exc.filename else path
    reason = exc.strerror or str(exc)
    if exc.errno == errno.ENOSPC:
        return _make(DatabaseFull, path, f"the disk is full (cannot create {where})",
                     "free some disk space, then try again", "the server's operator must free disk space")
    return _make(DatabaseReadOnly, path, f"cannot create or change {where} ({reason})",
                 "make it and its folder writable, or choose another data dir (--data-dir)")


def damaged(path: Path, what: str) -> DatabaseError:
    return _make(DatabaseDamaged, path, f"the file is damaged ({what})",
                 "restore a backup with `crewos-tui restore BACKUP`, "
                 "or move the file aside to start an empty workspace")


def too_new(path: Path, version: int, known: int) -> DatabaseError:
    return _make(DatabaseTooNew, path,
                 f"its schema version {version} is newer than this crewos-tui {__version__} understands ({known})",
                 "upgrade crewos-tui (it never downgrades a database)", "the server's crewos-tui must be upgraded")


def foreign(path: Path) -> DatabaseError:
    return _make(DatabaseForeign, path,
                 "it is not a crewos-tui database (it has tables but no crewos-tui schema version)",
                 "choose another data dir (--data-dir), or move the file aside")
