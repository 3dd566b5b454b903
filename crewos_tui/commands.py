"""``crewos-tui login | logout | profiles | doctor``: accounts and setup, in plain text.

Each handler returns the process exit code. Problems the user can fix are raised as
``CrewOSError`` / ``ConfigError`` (``cli.main`` prints them as one line) or printed
here as one ``crewos-tui: ...`` line when a hint must follow.

Imports stay inside the handlers: the CLI builds these parsers on every start.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from .backend.remote import RemoteBackend
    from .backend.schemas import ApiKeyCreated, ApiKeyInfo
    from .config import Config, Profile

from .accounts import create_device_key, end_session, key_prefix


def _say(message: str) -> None:
    print(f"crewos-tui: {message}", file=sys.stderr)


# ---- parsers -------------------------------------------------------------------------


def add_account_parsers(subparsers: argparse._SubParsersAction) -> None:
    login = subparsers.add_parser(
        "login",
        help="sign in to a CrewOS server and keep an API key in the OS keyring",
        description=(
            "Sign in with username and password, create an API key named "
            "crewos-tui@<this host>, keep it in the OS keyring (service crewos-tui, user = "
            "profile name), save a remote profile for the server, then end the password "
            "session: only the key is kept. Open the profile with `crewos-tui --profile NAME`. "
            "Without a keyring (over SSH, in a container) choose --session or --print-key; "
            "asked on a terminal, refused in a script. Nothing is ever written to a file."
        ),
    )
    login.add_argument("url", metavar="URL", help="the server, e.g. https://crewos.example.com")
    login.add_argument("--profile", metavar="NAME", help="profile name (default: the server's host name)")
    login.add_argument("--username", metavar="U", help="user name (default: the profile's, or asked)")
    login.add_argument("--password-stdin", action="store_true",
                       help="read the password from the first line of standard input (scripts)")
    login.add_argument("--default", action="store_true", help="make this the default profile")
    where = login.add_mutually_exclusive_group()
    where.add_argument(
        "--session", action="store_true",
        help="no keyring needed: keep the key in memory only and open the TUI on the profile now "
             "(forgotten when the TUI exits)",
    )
    where.add_argument(
        "--print-key", action="store_true",
        help="no keyring needed: print the new key once instead of storing it, to export as CREWOS_API_KEY",
    )
    login.set_defaults(handler=login_command)

    logout = subparsers.add_parser(
        "logout",
        help="forget a profile's API key (and with --revoke, revoke it on the server)",
        description=(
            "Delete the profile's API key from the OS keyring. The server does not let an "
            "API key manage keys, so revoking it there needs your password: with --revoke "
            "this signs in again, revokes the stored key, and signs out. Without --revoke "
            "the key stays valid on the server until it is revoked."
        ),
    )
    logout.add_argument("--profile", metavar="NAME", help="profile (default: the default profile)")
    logout.add_argument("--revoke", action="store_true",
                        help="also revoke the key on the server (asks for the password)")
    logout.add_argument("--username", metavar="U", help="with --revoke: user name (default: the profile's)")
    logout.add_argument("--password-stdin", action="store_true",
                        help="with --revoke: read the password from standard input")
    logout.set_defaults(handler=logout_command)

    profiles = subparsers.add_parser(
        "profiles",
        help="list profiles and where each API key comes from",
        description="List the profiles in the config file: name, mode, server or data dir, and "
                    "where a remote profile's API key comes from (env, keyring, session, none).",
    )
    profiles.set_defaults(handler=profiles_command)

    doctor = subparsers.add_parser(
        "doctor",
        help="check config, data dir, databases, keyring and servers",
        description="Show the config and data paths, whether the config file is valid, whether each "
                    "local database passes SQLite's integrity check (the first problems if not), which "
                    "keyring backend is in use and whether it works (stores, reads and deletes "
                    "a probe entry), and for each remote profile whether its server is ready.",
    )
    doctor.set_defaults(handler=doctor_command)


# ---- helpers -------------------------------------------------------------------------


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise _usage("no password on standard input")
        return password
    if not sys.stdin.isatty():
        raise _usage("no terminal to ask for the password: use --password-stdin")
    try:
        password = getpass.getpass("Password: ")
    except EOFError:
        password = ""
    if not password:
        raise _usage("no password given")
    return password


def _read_username(given: str | None, fallback: str | None, from_stdin: bool) -> str:
    if given:
        return given
    if fallback:
        return fallback
    if from_stdin or not sys.stdin.isatty():
        raise _usage("give --username (standard input carries the password)")
    try:
        name = input("Username: ").strip()
    except EOFError:
        name = ""
    if not name:
        raise _usage("no username given")
    return name


def _usage(message: str) -> Exception:
    from .backend.errors import Invalid

    return Invalid(message)


# ---- login ---------------------------------------------------------------------------


def login_command(args: argparse.Namespace) -> int:
    import asyncio  # not at module level: the CLI imports this module on every start

    from . import secrets
    from .config import (
        ConfigError,
        check_profile_name,
        load_config,
        normalize_url,
        profile_name_for_url,
    )

    try:
        url = normalize_url(args.url)
    except ValueError as exc:
        raise ConfigError(f"login: {exc}") from None
    cfg = load_config()  # a broken config stops us before anything is created
    name = check_profile_name(args.profile or profile_name_for_url(url))
    existing = cfg.profiles.get(name)
    if existing and existing.mode == "local":
        raise ConfigError(f"profile {name!r} is a local profile; choose another name with --profile")

    # Look before creating a key on the server that we could not keep.
    place = "session" if args.session else "print" if args.print_key else "keyring"
    if place == "keyring":
        status = secrets.keyring_status()
        if not status.usable:
            _say(str(secrets.KeyringUnavailable(status.reason)))
            place = _choose_key_place(url, name, interactive=not args.password_stdin and _has_terminal())
            if place == "cancel":
                return 1
    if place == "session" and not _has_terminal():
        raise _usage("--session opens the TUI and needs a terminal; in a script use --print-key")

    old_key = None
    if existing and existing.url == url and place == "keyring":
        old_key, _source = secrets.get_api_key(name, include_env=False)  # never CREWOS_API_KEY
    username = _read_username(args.username, existing.username if existing else None, args.password_stdin)
    password = _read_password(args.password_stdin)
    result = asyncio.run(sign_in(url, name, username, password, store=place == "keyring", old_key=old_key))
    created = result.created

    from .config import upsert_profile

    upsert_profile(name, mode="remote", url=url, username=username, make_default=args.default)
    if place == "session":
        secrets.remember_for_session(name, created.key)
        print(f"signed in to {url} as {username}; API key {created.name!r} (prefix {created.prefix}) is "
              f"{secrets.describe_key_source('session')} only (in memory, forgotten when the TUI exits). "
              "Opening the TUI.", flush=True)
        return _open_tui(name)
    if place == "print":
        print(f"signed in to {url} as {username}; created API key {created.name!r} (prefix {created.prefix}).")
        print(f"The key is shown once; it is not stored anywhere. Keep it as {secrets.ENV_VAR}:")
        print(f"export {secrets.ENV_VAR}={created.key}")
    else:
        print(f"signed in to {url} as {username}; API key {created.name!r} (prefix {created.prefix}) "
              f"is in the OS keyring for profile {name!r}.")
        if result.replaced:
            print(f"revoked the profile's previous key {result.replaced!r}.")
    print(f"open it with: crewos-tui --profile {name}")
    return 0


def _has_terminal() -> bool:
    """Both ends are a terminal: we may ask a question, and the TUI may open."""
    return sys.stdin.isatty() and sys.stdout.isatty()


def login_hint(url: str, profile: str | None = None) -> str:
    """The sign-in commands that work without a keyring, for messages and ``doctor``."""
    from .secrets import ENV_VAR

    base = f"crewos-tui login {url}" + (f" --profile {profile}" if profile else "")
    return (f"`{base} --session` (key kept in memory while the TUI it opens runs), or "
            f"`{base} --print-key` (key shown once: export it as {ENV_VAR})")


def _choose_key_place(url: str, profile: str, *, interactive: bool) -> str:
    """No keyring: the choices the TUI's login screen offers. "session", "print" or "cancel"."""
    if not interactive:
        _say(f"nothing was created. Sign in without a keyring with {login_hint(url, profile)}.")
        return "cancel"
    print("No keyring to keep the API key in. Where should it go?\n"
          "  [s] kept for this session only: sign in and open the TUI now (forgotten when it exits)\n"
          "  [p] printed once, to export as CREWOS_API_KEY (e.g. in ~/.profile on this host)\n"
          "  [q] nowhere: cancel, nothing is created", flush=True)
    while True:
        try:
            answer = input("Choice [s/p/q]: ").strip().lower()
        except EOFError:
            answer = "q"
        if answer in ("s", "session"):
            return "session"
        if answer in ("p", "print"):
            return "print"
        if answer in ("q", "quit", "n", "no", ""):
            _say("nothing was created.")
            return "cancel"


def _open_tui(profile: str) -> int:
    """Open the TUI on ``profile`` in this process (its session-only key lives here)."""
    import gc

    from .config import resolve_launch

    spec = resolve_launch(argparse.Namespace(profile=profile))
    gc.disable()  # as `crewos-tui` does: the start-up heap is collected once the backend is open
    from .app import run_app

    return run_app(spec)


@dataclass
class SignInResult:
    created: ApiKeyCreated
    where: str  # "keyring" | "session" | "nowhere" (not stored: --print-key)
    replaced: str | None = None  # name of the profile's previous key, revoked


async def _find_key(backend: RemoteBackend, raw: str) -> ApiKeyInfo | None:
    """The caller's active key whose prefix the raw key carries (the server's list
    never shows raw keys). Ours look like ``crewos_<prefix>_...``."""
    cursor: str | None = None
    while True:
        page = await backend.auth.list_api_keys(limit=100, cursor=cursor)
        for info in page.items:
            if info.revoked_at is None and info.prefix and (
                raw.startswith((f"crewos_{info.prefix}_", info.prefix))
            ):
                return info
        cursor = page.next_cursor
        if not cursor:
            return None


async def sign_in(url: str, profile: str, username: str, password: str, *, store: bool = True,
                  allow_session: bool = False, old_key: str | None = None) -> SignInResult:
    """Password -> JWT -> a new API key named crewos-tui@<host> -> kept (keyring, or this
    session's memory when ``allow_session`` and no keyring) -> JWT session ended.

    ``old_key``: the profile's previous key; revoked once the new one is stored. Used
    by ``crewos-tui login`` and meant for the TUI's login screen too. Saving the
    profile is the caller's job (``config.upsert_profile``)."""
    from . import secrets
    from .backend.errors import CrewOSError
    from .backend.remote import RemoteBackend

    async with RemoteBackend(url) as backend:
        await backend.auth.login(username, password)
        try:
            created = await create_device_key(backend)
            if not store:
                return SignInResult(created, "nowhere")
            try:
                where = secrets.store_api_key(profile, created.key, allow_session=allow_session)
            except CrewOSError:
                # The keyring broke after our check: do not leave an orphan key behind.
                with contextlib.suppress(CrewOSError):
                    await backend.auth.revoke_api_key(created.id)
                raise
            result = SignInResult(created, where)
            if old_key:
                # The profile's previous key was just overwritten and is kept nowhere
                # now: revoke it while we hold a session that may (same user only).
                try:
                    old = await _find_key(backend, old_key)
                    if old is not None and old.id != created.id:
                        await backend.auth.revoke_api_key(old.id)
                        result.replaced = old.name
                except CrewOSError:
                    pass
            return result
        finally:
            await end_session(backend)


# ---- logout --------------------------------------------------------------------------


def _profile_for(cfg: Config, name: str | None) -> tuple[str, Profile]:
    from .config import ConfigError

    name = name or cfg.default_profile
    profile = cfg.profiles.get(name)
    if profile is None:
        known = ", ".join(sorted(cfg.profiles)) or "none yet"
        raise ConfigError(f"unknown profile {name!r}; known profiles: {known}")
    return name, profile


def logout_command(args: argparse.Namespace) -> int:
    import asyncio

    from . import secrets
    from .config import ConfigError, load_config

    cfg = load_config()
    name, profile = _profile_for(cfg, args.profile)
    if profile.mode != "remote":
        raise ConfigError(f"profile {name!r} is local: it has no API key to forget")
    # What crewos-tui stored: CREWOS_API_KEY is the user's own and is never revoked here.
    key, _source = secrets.get_api_key(name, include_env=False)
    env_set = bool(os.environ.get(secrets.ENV_VAR, "").strip())

    revoked = None
    if args.revoke:
        if not key:
            raise _usage(f"profile {name!r} has no stored key to revoke")
        username = _read_username(args.username, profile.username, args.password_stdin)
        password = _read_password(args.password_stdin)
        assert profile.url is not None  # Profile refuses a remote profile without one
        revoked = asyncio.run(_revoke(profile.url, username, password, key))

    removed = secrets.delete_api_key(name)
    prefix = key_prefix(key) if key else None
    if removed:
        places = {"keyring": "the OS keyring", "session": "this session's memory"}
        print(f"removed the API key of profile {name!r} from {' and '.join(places[r] for r in removed)}.")
    else:
        status = secrets.keyring_status()
        where = "" if status.usable else f" (the keyring is unusable: {status.reason})"
        print(f"profile {name!r} had no stored API key{where}.")
    if revoked:
        print(f"revoked key {revoked!r} on {profile.url}.")
    elif key:
        label = f" (prefix {prefix})" if prefix else ""
        print(f"the key{label} stays valid on {profile.url} until it is revoked: the server lets only a "
              "signed-in user manage keys, so use `crewos-tui logout --revoke` next time, or revoke it "
              "in the server's API key list.")
    if env_set:
        print(f"{secrets.ENV_VAR} is set in this environment and still provides a key: unset it.")
    return 0


async def _revoke(url: str, username: str, password: str, key: str) -> str:
    from .backend.errors import NotFound
    from .backend.remote import RemoteBackend

    async with RemoteBackend(url) as backend:
        await backend.auth.login(username, password)
        try:
            info = await _find_key(backend, key)
            if info is None:
                raise NotFound(f"{username!r} has no active key matching the stored one on {url} (already revoked?)")
            await backend.auth.revoke_api_key(info.id)
            return info.name
        finally:
            await end_session(backend)


# ---- profiles ------------------------------------------------------------------------


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]


def profiles_command(args: argparse.Namespace) -> int:
    from . import paths, secrets
    from .config import load_config

    cfg = load_config()
    if not cfg.profiles:
        print(f"no profiles yet in {paths.config_file()}.")
        print("`crewos-tui` creates the 'local' profile on first run; `crewos-tui login URL` adds a remote one.")
        return 0
    rows: list[tuple[str, ...]] = [("", "NAME", "MODE", "SERVER / DATA DIR", "KEY")]
    for name in sorted(cfg.profiles):
        profile = cfg.profiles[name]
        marker = "*" if name == cfg.default_profile else ""
        if profile.mode == "remote":
            where = profile.url or "?"
            key = secrets.key_source(name)
        else:
            where = str(profile.data_dir or paths.data_dir())
            key = "-"  # local mode needs no key
        rows.append((marker, name, profile.mode, where, key))
    for line in _table(rows):
        print(line)
    print(f"(* = default; config: {paths.config_file()})")
    return 0


# ---- doctor --------------------------------------------------------------------------


def doctor_command(args: argparse.Namespace) -> int:
    import asyncio
    import platform

    from . import __version__, paths, secrets
    from .config import ConfigError, load_config

    problems = 0
    print(f"crewos-tui {__version__} (Python {platform.python_version()})")
    config_file = paths.config_file()
    print(f"config dir:  {paths.config_dir()}")
    cfg: Config | None
    try:
        cfg = load_config()
    except ConfigError as exc:
        cfg = None
        problems += 1
        print(f"config file: {config_file}: INVALID: {exc}")
    else:
        if config_file.exists():
            print(f"config file: {config_file}: valid, {len(cfg.profiles)} profile(s), "
                  f"default {cfg.default_profile!r}")
        else:
            print(f"config file: {config_file}: not created yet (first run creates the 'local' profile)")
    data = paths.data_dir()
    state = "exists" if data.is_dir() else "created on first use"
    print(f"data dir:    {data} ({state})")
    for warning in open_to_others(data):
        problems += 1
        print(f"WARNING:     {warning}")
    for line, ok in database_checks(_data_dirs(data, cfg)):
        problems += 0 if ok else 1
        print(line)

    status = secrets.probe_keyring()
    verdict = "works" if status.usable else "UNUSABLE"
    print(f"keyring:     {status.backend}: {verdict} ({status.reason})")
    env_set = bool(os.environ.get(secrets.ENV_VAR, "").strip())
    if not status.usable:
        # With CREWOS_API_KEY set, a box without a keyring is a supported setup.
        problems += 0 if env_set else 1
        print(f"             sign in without it: `crewos-tui login URL --session` keeps the key in memory "
              f"while the TUI runs; `crewos-tui login URL --print-key` shows it once to set as {secrets.ENV_VAR}")
    print(f"{secrets.ENV_VAR}: {'set (overrides every stored key)' if env_set else 'not set'}")

    if cfg is not None:
        remotes = [(n, p) for n, p in sorted(cfg.profiles.items()) if p.mode == "remote"]
        for name, profile in remotes:
            assert profile.url is not None  # Profile refuses a remote profile without one
            line, ok = asyncio.run(_check_server(name, profile.url))
            problems += 0 if ok else 1
            print(line)
    print("all good" if not problems else f"{problems} problem(s) found")
    return 0 if not problems else 1


def _data_dirs(default: Path, cfg: Config | None) -> list[Path]:
    """The default data dir and every local profile's, each once."""
    dirs = [default]
    for profile in (cfg.profiles.values() if cfg is not None else ()):
        if profile.mode == "local" and profile.data_dir and profile.data_dir not in dirs:
            dirs.append(profile.data_dir)
    return dirs


def database_checks(data_dirs: list[Path]) -> list[tuple[str, bool]]:
    """One line per database (workspace and demo) of each data dir, with SQLite's
    ``PRAGMA integrity_check`` verdict; (line, ok)."""
    from . import paths

    lines: list[tuple[str, bool]] = []
    for data in data_dirs:
        for db in (paths.database_file(data), paths.database_file(data, demo=True)):
            if db.is_file():
                lines.append(check_database(db))
            elif not db.name.startswith("demo"):
                lines.append((f"database:    {db} (created on first use)", True))
    return lines


def check_database(db: Path) -> tuple[str, bool]:
    from .backend.errors import CrewOSError
    from .backend.local.maintenance import SCHEMA_VERSION, inspect

    head = f"database:    {db}:"
    if db.stat().st_size == 0:  # made before SQLite first opened it: an empty database
        return f"{head} empty (crewos-tui sets it up on first use)", True
    try:
        found = inspect(db)
    except CrewOSError as exc:
        return f"{head} CANNOT CHECK: {exc}", False
    if found.ok:
        return f"{head} ok (schema version {found.version}, integrity check passed)", True
    first = found.problems[0]
    more = f" (and {len(found.problems) - 1} more)" if len(found.problems) > 1 else ""
    if found.version > SCHEMA_VERSION:
        return f"{head} NEWER SCHEMA: {first}; upgrade crewos-tui", False
    if first.startswith("not a crewos-tui"):
        return f"{head} NOT USABLE: {first}; move it aside or choose another data dir", False
    return (f"{head} DAMAGED: {first}{more}; restore a backup with `crewos-tui restore BACKUP`, "
            "or move the file aside", False)


def open_to_others(data: Path) -> list[str]:
    """What in the data dir others on this machine may open: the dir itself and the database files."""
    import shlex
    import stat

    from . import paths

    found: list[str] = []
    if not data.is_dir():
        return found
    mode = stat.S_IMODE(data.stat().st_mode)
    if mode & 0o077:
        found.append(f"the data dir {data} is open to group or others (mode {mode:04o}); "
                     f"run `chmod 700 {shlex.quote(str(data))}`")
    for db in (paths.database_file(data), paths.database_file(data, demo=True)):
        for file in (db, *(db.with_name(db.name + suffix) for suffix in ("-wal", "-shm", "-journal"))):
            if not file.is_file():
                continue
            mode = stat.S_IMODE(file.stat().st_mode)
            if mode & 0o077:
                found.append(f"the database file {file} is open to group or others (mode {mode:04o}); "
                             f"run `chmod 600 {shlex.quote(str(file))}`")
    return found


async def _check_server(name: str, url: str) -> tuple[str, bool]:
    from . import secrets
    from .backend.errors import CrewOSError, Unauthorized
    from .backend.remote import RemoteBackend

    head = f"profile {name!r} ({url}):"
    async with RemoteBackend(url, timeout=5.0, max_tries=1) as backend:
        try:
            ready = await backend.health.ready()
        except CrewOSError as exc:
            return f"{head} server NOT READY: {exc}", False
        line = f"{head} server {ready.status}, version {ready.version}"
        key, source = secrets.get_api_key(name)
        if not key:
            if secrets.keyring_status().usable:
                return f"{line}; no API key (run `crewos-tui login {url} --profile {name}`)", True
            return f"{line}; no API key and no keyring: sign in with {login_hint(url, name)}", True
        backend.api_key = key
        try:
            me = await backend.auth.me()
        except Unauthorized:
            return f"{line}; the {source} key is REFUSED (sign in again)", False
        except CrewOSError as exc:
            return f"{line}; key check failed: {exc}", False
        return f"{line}; {source} key works (user {me.username}, role {me.role})", True
