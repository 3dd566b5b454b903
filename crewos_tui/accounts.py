"""Account steps shared by the CLI (``crewos-tui login|logout``) and the TUI's login and
account screens: naming and creating this machine's API key, and ending a JWT session.

Imports stay inside the functions: the CLI and the first frame must not pay for them.
"""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .backend.remote import RemoteBackend
    from .backend.schemas import ApiKeyCreated

KEY_NAME_PREFIX = "crewos-tui@"
_KEY_PREFIX = re.compile(r"^crewos_([A-Za-z0-9]+)_")


def key_prefix(key: str) -> str | None:
    """The public prefix of a ``crewos_<prefix>_<secret>`` key (what the server lists)."""
    match = _KEY_PREFIX.match(key)
    return match.group(1) if match else None


def _hostname() -> str:
    import socket

    return socket.gethostname() or "localhost"


async def create_device_key(backend: RemoteBackend) -> ApiKeyCreated:
    """A key named crewos-tui@<host>; if this host already has one, a timestamped twin
    (an older install, or a second profile for the same user)."""
    from .backend.errors import Conflict
    from .backend.schemas import ApiKeyCreate

    base = f"{KEY_NAME_PREFIX}{_hostname()}"
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    names = [base, f"{base} {stamp}", *(f"{base} {stamp} #{n}" for n in range(2, 5))]
    for name in names[:-1]:
        try:
            return await backend.auth.create_api_key(ApiKeyCreate(name=name))
        except Conflict:
            continue
    return await backend.auth.create_api_key(ApiKeyCreate(name=names[-1]))


async def end_session(backend: RemoteBackend) -> None:
    """Forget the JWT: revoke the refresh token on the server, best effort."""
    from .backend.errors import CrewOSError

    if backend.access_token:
        with contextlib.suppress(CrewOSError):  # the access token expires on its own; the key is what matters
            await backend.auth.logout(backend.refresh_token)
    backend.access_token = backend.refresh_token = None
