"""Backups, restores and integrity checks of a workspace database, with SQLite's own tools.

- ``backup(source, target)``: SQLite's online backup API, in one step: the copy is one
  read transaction's snapshot, so it is consistent while a TUI or a server writes (with
  WAL a reader never blocks the writers, nor they it). The copy is checked
  (``PRAGMA integrity_check``), made a self-contained file (rollback journal, no -wal),
  synced, and appears at ``target`` only when complete, owner-only (0600).
- ``restore(backup_file, target)``: refuses a file that is not a crewos-tui database,
  is damaged, or is from a newer schema; refuses while another process has the database
  open (a server or a TUI would keep writing to the file that was replaced); keeps the
  old database as ``<name>.before-restore-<UTC time>`` (with its -wal, if any); puts the
  copy in place with one rename. An older backup is migrated on the next start.
- ``inspect(path)``: schema version, required tables and ``PRAGMA integrity_check``
  (``crewos-tui doctor``). Opens the file read-only.

Synchronous ``sqlite3`` (the command line runs these, not the service layer). Failures
are ``backend/errors.py`` errors with one line that says what to do.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ...paths import PRIVATE_FILE_MODE, private_dir
from ..errors import Conflict, Invalid, NotFound
from . import sqlite_errors
from .db import BUSY_TIMEOUT_MS, SCHEMA_VERSION

#: The first 16 bytes of every SQLite 3 database file.
SQLITE_HEADER = b"SQLite format 3\x00"
#: Tables every crewos-tui schema version has (version 1 had these already).
CORE_TABLES = frozenset({"users", "projects", "api_keys"})
#: How many problems of ``PRAGMA integrity_check`` are reported.
MAX_PROBLEMS = 10


@dataclass
class Inspection:
    """What ``inspect`` found: ``problems`` is empty when the file is a sound crewos-tui database."""

    path: Path
    version: int = 0
    size: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class BackupResult:
    source: Path
    target: Path
    version: int
    size: int


@dataclass
class RestoreResult:
    source: Path
    target: Path
    version: int
    kept_aside: Path | None


def _uri(path: Path, mode: str) -> str:
    return f"{path.resolve().as_uri()}?mode={mode}"


@contextlib.contextmanager
def _connect(path: Path, *, read_only: bool) -> Iterator[sqlite3.Connection]:
    con = sqlite3.connect(_uri(path, "ro" if read_only else "rw"), uri=True, isolation_level=None,
                          timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        yield con
    finally:
        con.close()


def _header(path: Path) -> bytes:
    with path.open("rb") as f:
        return f.read(len(SQLITE_HEADER))


def _schema_problem(con: sqlite3.Connection) -> tuple[int, str | None]:
    """(schema version, why it is not a crewos-tui database this version can open, or None)."""
    version = int(con.execute("PRAGMA user_version").fetchone()[0])
    if version == 0:
        return version, "not a crewos-tui database (no crewos-tui schema version)"
    if version > SCHEMA_VERSION:
        return version, f"its schema version {version} is newer than this crewos-tui understands ({SCHEMA_VERSION})"
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    missing = sorted(CORE_TABLES - tables)
    if missing:
        return version, f"not a crewos-tui database (no {', '.join(missing)} table)"
    return version, None


def _integrity_problems(con: sqlite3.Connection, max_problems: int = MAX_PROBLEMS) -> list[str]:
    rows = con.execute(f"PRAGMA integrity_check({max(1, max_problems)})").fetchall()
    return [str(r[0]) for r in rows if str(r[0]) != "ok"]


def inspect(path: Path | str, *, integrity: bool = True, max_problems: int = MAX_PROBLEMS) -> Inspection:
    """Check the database at ``path`` without writing to it: SQLite's header, the schema
    version and tables, and (``integrity``) ``PRAGMA integrity_check``. A file SQLite
    cannot read is a problem like any other; a missing file raises ``NotFound``; a file
    that cannot be looked at (a read-only folder, a lock) raises its ``DatabaseError``."""
    path = Path(path)
    if not path.is_file():
        raise NotFound(f"no database at {path}")
    found = Inspection(path, size=path.stat().st_size)
    if found.size and _header(path) != SQLITE_HEADER:  # an empty file is an empty database
        found.problems.append("not a SQLite database (the file does not start with SQLite's header)")
        return found
    try:
        with _connect(path, read_only=True) as con:
            found.version, problem = _schema_problem(con)
            if problem:
                found.problems.append(problem)
            elif integrity:
                found.problems.extend(_integrity_problems(con, max_problems))
    except sqlite3.Error as exc:
        if not sqlite_errors.is_damage(exc):
            raise (sqlite_errors.database_error(exc, path) or exc) from exc
        found.problems.append(str(exc))
    return found


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _new_private_file(path: Path) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    os.close(fd)
    path.chmod(PRIVATE_FILE_MODE)


def _remove(path: Path) -> None:
    for suffix in ("", "-journal", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _copy(source: Path, staged: Path) -> list[str]:
    """Copy ``source`` into the new file ``staged`` with the backup API (one step, one
    snapshot), make it a self-contained file and check it; the copy's problems."""
    with _connect(source, read_only=True) as src, _connect(staged, read_only=False) as dst:
        src.backup(dst)  # pages=-1: the whole database in one step, from one read transaction
        dst.execute("PRAGMA journal_mode=DELETE")  # one file: no -wal to carry along
        problems = _integrity_problems(dst)
    _fsync(staged)
    return problems


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:
        return False


def backup(source: Path | str, target: Path | str) -> BackupResult:
    """Copy the database at ``source`` to ``target`` (a new file, or a folder to put
    ``<name>-<UTC time>.db`` in), consistently, while others may be writing."""
    source, target = Path(source), Path(target)
    if not source.is_file():
        raise NotFound(f"no database at {source}: nothing to back up (see --data-dir and --demo)")
    if target.is_dir():
        target = target / f"{source.stem}-{_stamp()}.db"
    if target.exists() or target.is_symlink():
        raise Conflict(f"{target} already exists: choose another name, or remove it first")
    if not target.parent.is_dir():
        raise Invalid(f"the folder {target.parent} does not exist: create it first")
    source_check = inspect(source, integrity=False)  # the copy's integrity is checked below
    if source_check.problems and source_check.version <= SCHEMA_VERSION:
        raise Invalid(f"{source}: {source_check.problems[0]}; nothing was backed up")
    staged = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        _new_private_file(staged)
        problems = _copy(source, staged)
        if problems:
            raise sqlite_errors.damaged(source, problems[0])
        try:
            os.link(staged, target)  # appears complete, and never over a file made meanwhile
        except FileExistsError:
            raise Conflict(f"{target} already exists: choose another name, or remove it first") from None
        except OSError:  # a file system without hard links
            os.replace(staged, target)
        with contextlib.suppress(OSError):
            _fsync(target.parent)
    except sqlite3.Error as exc:
        raise (sqlite_errors.database_error(exc, source) or exc) from exc
    except OSError as exc:
        raise Invalid(f"cannot write the backup {target}: {exc.strerror or exc}") from exc
    finally:
        _remove(staged)
    return BackupResult(source, target, source_check.version, target.stat().st_size)


def in_use(path: Path) -> bool:
    """Whether another connection (another process: a server, a TUI, a script) has the
    database open. With WAL every open connection holds a shared lock on the file, so an
    exclusive lock is refused at once. Closing this probe, the last connection, also
    folds a leftover -wal back into the file."""
    con = sqlite3.connect(_uri(path, "rw"), uri=True, isolation_level=None, timeout=0)
    try:
        con.execute("PRAGMA locking_mode=EXCLUSIVE")
        con.execute("BEGIN EXCLUSIVE")
        con.execute("ROLLBACK")
    except sqlite3.Error as exc:
        return sqlite_errors.is_busy(exc)  # a damaged file nobody could have open is not "in use"
    finally:
        con.close()
    return False


def check_backup(backup_file: Path) -> Inspection:
    """Refuse, with one line, a file that is not a sound crewos-tui database this version can use."""
    if not backup_file.is_file():
        raise NotFound(f"no backup at {backup_file}")
    found = inspect(backup_file)
    if found.problems:
        if found.version > SCHEMA_VERSION:
            raise Invalid(f"{backup_file}: its schema version {found.version} is newer than this crewos-tui "
                          f"understands ({SCHEMA_VERSION}); upgrade crewos-tui, then restore it")
        if found.problems[0].startswith("not a"):
            raise Invalid(f"{backup_file}: {found.problems[0]}; give a file made by `crewos-tui backup`")
        raise Invalid(f"{backup_file}: the backup is damaged ({found.problems[0]}); use another backup")
    return found


def restore(backup_file: Path | str, target: Path | str) -> RestoreResult:
    """Put a copy of ``backup_file`` in place of the database at ``target``, keeping the
    old one aside."""
    backup_file, target = Path(backup_file), Path(target)
    found = check_backup(backup_file)
    if target.exists() and _same_file(backup_file, target):
        raise Invalid(f"{backup_file} is the database itself: give a backup file")
    private_dir(target.parent)
    if target.exists() and in_use(target):
        raise Conflict(f"database {target} is open in another process (a `crewos-tui serve` or a TUI): "
                       "stop it, then restore")
    staged = target.with_name(f".{target.name}.restore-{os.getpid()}")
    kept: Path | None = None
    try:
        _new_private_file(staged)
        problems = _copy(backup_file, staged)
        if problems:  # changed under us since the check
            raise Invalid(f"{backup_file}: the backup is damaged ({problems[0]}); use another backup")
        if target.exists():
            kept = target.with_name(f"{target.name}.before-restore-{_stamp()}")
            os.rename(target, kept)
            for suffix in ("-wal", "-journal"):  # the old file's last commits stay with it
                part = Path(f"{target}{suffix}")
                if part.exists():
                    os.rename(part, Path(f"{kept}{suffix}"))
            Path(f"{target}-shm").unlink(missing_ok=True)  # an index of the -wal, rebuilt from it
        os.rename(staged, target)
        with contextlib.suppress(OSError):
            _fsync(target.parent)
    except sqlite3.Error as exc:
        raise (sqlite_errors.database_error(exc, backup_file) or exc) from exc
    except OSError as exc:
        raise (sqlite_errors.os_error(exc, target)) from exc
    finally:
        _remove(staged)
    return RestoreResult(backup_file, target, found.version, kept)
