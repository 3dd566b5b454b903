"""``crewos-tui backup PATH`` and ``crewos-tui restore PATH``: copies of a data dir's database.

The work is in ``backend/local/maintenance.py`` (SQLite's online backup API). Problems are
``CrewOSError``s, which ``cli.main`` prints as one ``crewos-tui: ...`` line (exit code 1).
Imports stay inside the handlers: the CLI builds these parsers on every start.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_data_parsers(subparsers: argparse._SubParsersAction) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", type=Path, default=None, help="data directory (default: the user data dir)")
    common.add_argument("--demo", action="store_true", help="the demo database instead of the workspace's")

    backup = subparsers.add_parser(
        "backup", parents=[common], help="copy the workspace database to a file, consistently, even while in use",
        description="Copy the data dir's database to PATH with SQLite's online backup API: a consistent "
                    "snapshot even while a TUI or `crewos-tui serve` writes to it. PATH must not exist; if it "
                    "is a folder, the copy is named crewos-<UTC time>.db in it. The copy is checked, owner-only "
                    "(0600) and self-contained (no -wal file).",
    )
    backup.add_argument("path", type=Path, metavar="PATH", help="the new backup file, or a folder for it")
    backup.set_defaults(handler=backup_command)

    restore = subparsers.add_parser(
        "restore", parents=[common], help="replace the workspace database with a backup (the old one is kept)",
        description="Replace the data dir's database with a copy of BACKUP. Refuses a file that is not a "
                    "crewos-tui database, is damaged or is from a newer crewos-tui, and refuses while a server "
                    "or a TUI has the database open (stop it first). The old database is kept next to it as "
                    "<name>.before-restore-<UTC time>. An older backup is migrated on the next start.",
    )
    restore.add_argument("path", type=Path, metavar="BACKUP", help="a file made by `crewos-tui backup`")
    restore.set_defaults(handler=restore_command)


def _database(args: argparse.Namespace) -> Path:
    from . import paths

    return paths.database_file(args.data_dir, demo=args.demo)


def backup_command(args: argparse.Namespace) -> int:
    from .backend.local.maintenance import backup
    from .widgets.format import size as _size  # the app's own byte counts (no Textual import)

    done = backup(_database(args), args.path)
    print(f"backed up {done.source} (schema version {done.version}, {_size(done.size)}) to {done.target}")
    return 0


def restore_command(args: argparse.Namespace) -> int:
    from .backend.local.maintenance import restore

    done = restore(args.path, _database(args))
    print(f"restored {done.target} from {done.source} (schema version {done.version})")
    if done.kept_aside is not None:
        print(f"the previous database is kept as {done.kept_aside}")
    return 0
