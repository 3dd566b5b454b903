"""Turning a LaunchSpec into a Backend. Runs in a worker after the first frame, so
the ORM, the service layer and httpx load off the start path."""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .backend.errors import Unauthorized
from .launch import LaunchSpec

if TYPE_CHECKING:
    from .backend.protocol import Backend


class LoginRequired(Unauthorized):
    """A remote profile has no usable key (none stored, or the server refused it)."""


@dataclass
class Connection:
    backend: Backend
    key_source: str | None = None  # "keyring" | "env" | "session" for remote; None for local


def local_username() -> str:
    import re

    try:
        name = getpass.getuser()
    except Exception:  # no passwd entry (containers)
        name = ""
    name = re.sub(r"[^A-Za-z0-9_.@-]", "", name)
    return name if len(name) >= 2 else "operator"


async def open_local(spec: LaunchSpec) -> Connection:
    from . import paths
    from .backend.errors import NotFound
    from .backend.local.backend import LocalBackend
    from .backend.local.services import Services
    from .backend.principal import Principal
    from .backend.schemas import Role, UserCreate

    db_file = paths.database_file(spec.data_dir, demo=spec.demo)
    if spec.demo and not db_file.exists():
        from .backend.local.demo import seed_demo

        paths.private_dir(db_file.parent)
        await seed_demo(db_file)
    services = await Services.open(db_file)
    try:
        if spec.demo:
            from .backend.local.demo import DEMO_USER

            username = spec.username or DEMO_USER
        else:
            username = spec.username or local_username()
        try:
            principal = await services.auth.principal_for(username)
        except NotFound:
            if spec.username or spec.demo:
                raise NotFound(f"no local user {username!r} (see `crewos-tui users list`)") from None
            # First run of a personal workspace: its owner is its admin. The password
            # is random and unused locally; `users set-password` sets one before the
            # data dir is served.
            import secrets

            await services.auth.create_user(
                Principal.system(),
                UserCreate(username=username, password=secrets.token_urlsafe(16), role=Role.admin),
            )
            principal = await services.auth.principal_for(username)
        await services.start_background()  # durable jobs run in the process that owns the database
    except BaseException:
        await services.close()
        raise
    return Connection(LocalBackend(services, principal))


async def open_remote(spec: LaunchSpec) -> Connection:
    from .backend.remote import RemoteBackend
    from .secrets import get_api_key

    if not spec.url:
        raise LoginRequired(f"profile {spec.profile!r} has no server URL")
    key, source = get_api_key(spec.profile)
    if not key:
        raise LoginRequired(f"no API key for profile {spec.profile!r}: sign in")
    backend = RemoteBackend(spec.url, key)
    try:
        await backend.auth.me()  # proves the key works before any screen loads
    except Unauthorized as exc:
        await backend.close()
        raise LoginRequired(f"the server refused the stored key: {exc}") from None
    except BaseException:
        await backend.close()
        raise
    return Connection(backend, key_source=source)


async def open_backend(spec: LaunchSpec) -> Connection:
    return await (open_remote(spec) if spec.mode == "remote" else open_local(spec))
