"""The ``crewos-tui`` command. Imports stay lazy: starting the TUI must not pay
for fastapi, uvicorn or the ORM, and ``--help`` must be instant."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__


def _add_tui_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--profile", metavar="NAME", help="open this profile (default: the config's default, or 'local')")
    p.add_argument("--local", action="store_true", help="local mode: the embedded service layer on SQLite")
    p.add_argument("--data-dir", type=Path, metavar="DIR", help="local mode: keep the database in DIR")
    p.add_argument("--demo", action="store_true", help="local mode on a demo database with realistic data")
    p.add_argument("--reset-demo", action="store_true", help="with --demo: start from fresh demo data")
    p.add_argument("--remote", metavar="URL", help="remote mode against the CrewOS server at URL")
    p.add_argument("--as", dest="as_user", metavar="USERNAME", help="local mode: act as another local user")


COMMANDS = frozenset({"serve", "users", "login", "logout", "profiles", "doctor", "backup", "restore"})


def _tui_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crewos-tui",
        description="A terminal workbench for CrewOS. With no command, opens the TUI.",
    )
    parser.add_argument("--version", action="version", version=f"crewos-tui {__version__}")
    _add_tui_options(parser)
    return parser


def _wants_tui(argv: Sequence[str]) -> bool:
    """No command word and no --help: the fast path, without the commands' parsers."""
    return not any(a in COMMANDS or a in ("-h", "--help") for a in argv)


def build_parser() -> argparse.ArgumentParser:
    parser = _tui_parser()
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    from .backend.serve import add_serve_parser, add_users_parser
    from .commands import add_account_parsers
    from .data_commands import add_data_parsers

    add_serve_parser(sub)
    add_users_parser(sub)
    add_account_parsers(sub)
    add_data_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Opening the TUI is the hot path: skip building every subcommand's parser.
    parser = _tui_parser() if _wants_tui(argv) else build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "command"):
        args.command = None
    from .backend.errors import CrewOSError
    from .config import ConfigError

    try:
        if args.command is None:
            from .config import resolve_launch

            spec = resolve_launch(args)
            if args.reset_demo:
                if not spec.demo:
                    parser.error("--reset-demo goes with --demo")
                from . import paths

                for suffix in ("", "-wal", "-shm"):
                    Path(str(paths.database_file(spec.data_dir, demo=True)) + suffix).unlink(missing_ok=True)
            import gc

            # Start-up imports build a large heap and almost no garbage: collecting while
            # it grows only costs time. The collector comes back on once the backend is
            # open (``app_backend.settle_heap``).
            gc.disable()
            from .app import run_app

            return run_app(spec)
        return int(args.handler(args) or 0)
    except (CrewOSError, ConfigError) as exc:
        print(f"crewos-tui: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
