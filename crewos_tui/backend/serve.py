"""``crewos-tui serve`` and ``crewos-tui users ...``: the command line on a data dir.

The CLI imports this module to build its parsers, so everything heavy (fastapi,
uvicorn, sqlmodel) is imported inside the functions that need it.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .local.context import Settings
    from .local.services import Services
    from .principal import Principal

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
ROLES = ("admin", "member", "viewer")
ADMIN_PASSWORD_ENV = "CREWOS_ADMIN_PASSWORD"
JWT_SECRET_ENV = "CREWOS_JWT_SECRET"
TRUSTED_PROXIES_ENV = "CREWOS_TRUSTED_PROXIES"


def _say(message: str) -> None:
    print(f"crewos-tui: {message}", file=sys.stderr)


def resolve_data_dir(data_dir: Path | str | None) -> Path:
    from ..paths import data_dir as default_data_dir

    return Path(data_dir) if data_dir else default_data_dir()


def settings_from_env() -> Settings:
    """Service settings; a deployment sets CREWOS_JWT_SECRET so tokens survive restarts."""
    from .local.context import Settings

    secret = os.environ.get(JWT_SECRET_ENV)
    return Settings(jwt_secret=secret) if secret else Settings()


async def open_data_dir(
    data_dir: Path, *, demo: bool = False, settings: Settings | None = None, bootstrap: bool = False
) -> Services:
    """Open (creating or migrating) the data dir's database.

    With ``bootstrap`` (the server's start): a new demo database gets demo data, and
    an empty users table gets user ``admin`` with CREWOS_ADMIN_PASSWORD or a generated
    password, printed once.
    """
    from ..paths import database_file
    from .local.services import Services

    path = database_file(data_dir, demo=demo)
    settings = settings or settings_from_env()
    if bootstrap and demo and not path.exists():
        # The seed opens the new file itself, on its own fixed clock and ids.
        from .local.demo import DEMO_PASSWORD, DEMO_USER, seed_demo

        try:
            await seed_demo(path, settings)
        except BaseException:
            for suffix in ("", "-wal", "-shm"):  # half a demo would never be re-seeded
                Path(f"{path}{suffix}").unlink(missing_ok=True)  # noqa: ASYNC240 - cleanup on the way out
            raise
        _say(f"seeded the demo workspace; sign in as {DEMO_USER!r} (admin) with password {DEMO_PASSWORD!r}")
    services = await Services.open(path, settings=settings)
    if not bootstrap:
        return services
    try:
        from_env = os.environ.get(ADMIN_PASSWORD_ENV) or None
        password = await services.auth.ensure_admin(from_env)
        if password is not None:
            if from_env:
                _say(f"created user 'admin' (role admin) with the password from {ADMIN_PASSWORD_ENV}")
            else:
                _say(f"created user 'admin' (role admin) with password: {password}")
                _say("this password is shown once; change it with "
                     "`crewos-tui users set-password admin --password-stdin`")
    except BaseException:
        await services.close()
        raise
    return services


# ---- serve ---------------------------------------------------------------------------


def add_serve_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "serve", help="serve the local workspace over HTTP at CrewOS's paths",
        description="Serve the data dir's workspace as a CrewOS HTTP API (FastAPI + uvicorn).",
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to bind (default {DEFAULT_HOST})")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port to bind (default {DEFAULT_PORT})")
    parser.add_argument("--data-dir", type=Path, default=None, help="data directory (default: the user data dir)")
    parser.add_argument("--demo", action="store_true", help="serve the demo database (seeded on first start)")
    parser.add_argument(
        "--trusted-proxy", action="append", default=[], metavar="IP",
        help="a reverse proxy (address or network; repeat it or give a comma list) whose X-Forwarded-For "
             f"names the client; default {TRUSTED_PROXIES_ENV}, else none: the direct peer is the client",
    )
    parser.set_defaults(handler=serve_command)
    return parser


def run_serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, data_dir: Path | str | None = None,
              demo: bool = False, trusted_proxies: list[str] | None = None) -> int:
    """Run the server until interrupted; returns the process exit code.

    The database is opened (and migrated, and bootstrapped) before uvicorn starts, in the
    loop uvicorn then serves on: a database that cannot be used (damaged, newer schema,
    read-only, disk full) stops ``serve`` with its one line (``cli.main`` prints the
    ``DatabaseError``), not with uvicorn's traceback of a failed lifespan."""
    import asyncio

    from .server.ratelimit import parse_trusted_proxies

    proxies = trusted_proxies or []
    try:
        parse_trusted_proxies(proxies)
    except ValueError as exc:
        _say(f"serve: --trusted-proxy: {exc}")
        return 2
    asyncio.run(_serve(host, port, resolve_data_dir(data_dir), demo, proxies))
    return 0


async def _serve(host: str, port: int, directory: Path, demo: bool, proxies: list[str]) -> None:
    import uvicorn

    from ..paths import database_file
    from .server.app import create_app

    services = await open_data_dir(directory, demo=demo, bootstrap=True)
    try:
        # background: the app's lifespan runs the durable job runner (this process owns the database).
        app = create_app(services, background=True, trusted_proxies=proxies)
        _say(f"serving {database_file(directory, demo=demo)} at http://{host}:{port} (API docs at /docs)")
        if proxies:
            _say(f"trusting X-Forwarded-For from {', '.join(proxies)}")
        # uvicorn's own proxy headers would believe X-Forwarded-For from any loopback peer;
        # the app reads it itself, from the trusted proxies only.
        config = uvicorn.Config(app, host=host, port=port, log_level="info", proxy_headers=False)
        await uvicorn.Server(config).serve()
    finally:
        await services.close()


def trusted_proxies_of(args: argparse.Namespace) -> list[str]:
    """``--trusted-proxy`` values, else CREWOS_TRUSTED_PROXIES (a comma list), else none."""
    given = list(args.trusted_proxy or [])
    if not given and os.environ.get(TRUSTED_PROXIES_ENV):
        given = [os.environ[TRUSTED_PROXIES_ENV]]
    return [part.strip() for entry in given for part in entry.split(",") if part.strip()]


def serve_command(args: argparse.Namespace) -> int:
    return run_serve(args.host, args.port, args.data_dir, args.demo, trusted_proxies_of(args))


# ---- users ---------------------------------------------------------------------------


def add_users_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", type=Path, default=None, help="data directory (default: the user data dir)")
    common.add_argument("--demo", action="store_true", help="act on the demo database")

    parser = subparsers.add_parser("users", help="add and list users of the local workspace")
    sub = parser.add_subparsers(dest="users_command", required=True, metavar="{add,list,set-password}")

    add = sub.add_parser("add", parents=[common], help="create a user")
    add.add_argument("username")
    add.add_argument("--role", choices=ROLES, default="member", help="workspace role (default member)")
    add.add_argument("--team", default="default", help="team (default 'default')")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")

    sub.add_parser("list", parents=[common], help="list users")

    setpw = sub.add_parser("set-password", parents=[common], help="set a user's password")
    setpw.add_argument("username")
    setpw.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    parser.set_defaults(handler=run_users)
    return parser


class _UsageError(Exception):
    """A problem with what the operator typed; printed without a traceback."""


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise _UsageError("no password on standard input")
        return password
    import getpass

    if not sys.stdin.isatty():
        raise _UsageError("no terminal to ask for the password on; pipe it in with --password-stdin")
    password = getpass.getpass("Password: ")
    if password != getpass.getpass("Repeat password: "):
        raise _UsageError("the passwords do not match")
    return password


async def _users(args: argparse.Namespace) -> None:
    from ..paths import database_file
    from .principal import Principal
    from .schemas import UserCreate

    system = Principal.system()
    if args.users_command == "add":
        password = _read_password(args.password_stdin)
        data = UserCreate(username=args.username, password=password, role=args.role, team=args.team)
    elif args.users_command == "set-password":
        password = _read_password(args.password_stdin)
    directory = resolve_data_dir(args.data_dir)
    if args.demo and not database_file(directory, demo=True).exists():
        # An empty demo.db would never be seeded afterwards.
        raise _UsageError("there is no demo database yet; start `crewos-tui serve --demo` first")
    services = await open_data_dir(directory, demo=args.demo)
    try:
        if args.users_command == "add":
            user = await services.auth.create_user(system, data)
            print(f"created user {user.username!r} (role {user.role}, team {user.team}, id {user.id})")
        elif args.users_command == "set-password":
            user = await services.auth.set_password(system, args.username, password)
            print(f"password of {user.username!r} set; their login sessions were ended")
        else:
            await _print_users(services, system)
    finally:
        await services.close()


async def _print_users(services: Services, system: Principal) -> None:
    """One line per user. STATE says what the record says: sign-in throttles after wrong
    passwords (``throttled until ... UTC``, ``2 failed sign-ins``), it never locks. Names
    and teams are shown with their control characters made visible."""
    from .schemas.admin import sign_in_state
    from .text_safety import visible

    rows = [("USERNAME", "ROLE", "TEAM", "STATE", "ID")]
    now = services.ctx.clock.now()  # the clock the throttle was set by
    cursor: str | None = None
    while True:
        page = await services.admin.list_users(system, limit=200, cursor=cursor)
        for u in page.items:
            rows.append((visible(u.username), str(u.role), visible(u.team), sign_in_state(u, now), u.id))
        cursor = page.next_cursor
        if not cursor:
            break
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())


def run_users(args: argparse.Namespace) -> int:
    """``crewos-tui users ...``; returns the process exit code."""
    import asyncio

    from pydantic import ValidationError

    from .errors import CrewOSError

    try:
        asyncio.run(_users(args))
    except (CrewOSError, _UsageError) as exc:
        _say(f"users {args.users_command}: {exc}")
        return 1
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        _say(f"users {args.users_command}: {problems}")
        return 1
    except (KeyboardInterrupt, EOFError):
        return 130
    return 0


users_command = run_users
