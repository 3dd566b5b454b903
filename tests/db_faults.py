"""Real database faults for the tests: a full disk, a read-only file or folder, a damaged
file, a newer schema, a file that is not ours. SQLite itself reports each one; nothing is
mocked.

- ``limit_pages``: ``PRAGMA max_page_count`` on every connection of a ``Database``, so
  SQLite answers SQLITE_FULL ("database or disk is full") once the file would grow.
- ``read_only``: chmod for a normal user; as root (CI runs as root, and root ignores
  modes) the immutable attribute (``chattr +i``), which binds root too. Skips, saying why,
  where neither works (a file system without attributes, no CAP_LINUX_IMMUTABLE).
- ``break_database``: the other faults, written over a real database file.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from crewos_tui.backend.local.db import SCHEMA_VERSION, Database

#: Faults ``break_database`` writes, and words the one-line error must contain.
FAULTS = {
    "garbage": "damaged",  # the header overwritten: "file is not a database"
    "malformed": "damaged",  # a sound header, pages overwritten: "database disk image is malformed"
    "newer": "newer",  # PRAGMA user_version past this version's
    "foreign": "not a crewos-tui database",  # someone else's SQLite file
}


async def limit_pages(db: Database, extra: int = 0) -> Callable[[], None]:
    """From now on the file may grow by ``extra`` pages at most; returns the undo."""
    async with db.read() as s:
        pages = int((await s.execute(text("PRAGMA page_count"))).scalar() or 0)

    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA max_page_count={pages + extra}")
        cur.close()

    event.listen(db.engine.sync_engine, "connect", on_connect)
    await db.engine.dispose()  # every connection from now on is a new one, with the limit

    def undo() -> None:
        event.remove(db.engine.sync_engine, "connect", on_connect)

    return undo


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """``path`` (a file or a folder) cannot be written, for real, until the block ends."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(0o500 if path.is_dir() else 0o400)
        try:
            yield
        finally:
            path.chmod(mode)
        return
    if shutil.which("chattr") is None:
        pytest.skip("running as root, where modes do not bind, and there is no chattr for the immutable attribute")
    done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"running as root, where modes do not bind, and `chattr +i` is refused here: "
                    f"{done.stderr.strip() or done.returncode}")
    try:
        probe = path / ".probe" if path.is_dir() else path
        try:
            with probe.open("a"):
                pass
        except PermissionError:
            pass
        else:
            pytest.skip(f"`chattr +i {path}` did not make it read-only for root here")
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], capture_output=True, check=False)


def break_database(path: Path, fault: str) -> None:
    """Write ``fault`` (a key of ``FAULTS``) over the database file at ``path``."""
    for suffix in ("-wal", "-shm"):  # fold nothing back in: the fault is the file
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    if fault == "garbage":
        with path.open("r+b") as f:
            f.write(b"this is not a database, it is a shopping list\n" * 3)
    elif fault == "malformed":
        data = bytearray(path.read_bytes())
        page = 4096
        for i in range(page, min(len(data), page * 64)):  # keep page 1 (header, schema root)
            data[i] = 0x5A
        path.write_bytes(bytes(data))
    elif fault == "newer":
        con = sqlite3.connect(path)
        con.execute(f"PRAGMA user_version={SCHEMA_VERSION + 7}")
        con.commit()
        con.close()
    elif fault == "foreign":
        path.unlink()
        con = sqlite3.connect(path)
        con.execute("CREATE TABLE recipes (name TEXT, minutes INTEGER)")
        con.commit()
        con.close()
    else:
        raise ValueError(fault)
