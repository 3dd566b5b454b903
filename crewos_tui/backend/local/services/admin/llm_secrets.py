"""Secrets of OpenAI-compatible endpoints: in the OS keyring of the machine running the
service (service ``crewos-tui-llm``, user = the route's agent), never in the database.

The keyring choice and its refusals (plain-file and prompting keyrings, a locked
Secret Service) are the shell's (``crewos_tui.secrets``); this module only uses a
different service name. Keyring calls block (D-Bus), so they run in a thread.
"""

from __future__ import annotations

import asyncio

from ....errors import Unavailable

KEYRING_SERVICE = "crewos-tui-llm"


def _unusable(reason: str) -> Unavailable:
    return Unavailable(
        f"no usable OS keyring on the machine running crewos-tui ({reason}); set api_key_env to the name "
        "of an environment variable holding the key instead"
    )


def _store(agent: str, value: str) -> None:
    from crewos_tui import secrets as os_secrets

    try:
        kr = os_secrets._backend()  # the shell's backend choice, refusals included
        kr.set_password(KEYRING_SERVICE, agent, value)
    except os_secrets.KeyringUnavailable as exc:
        raise _unusable(exc.reason) from None
    except os_secrets._errors() as exc:
        raise _unusable(str(exc) or type(exc).__name__) from None


def _read(agent: str) -> str | None:
    from crewos_tui import secrets as os_secrets

    try:
        return os_secrets._backend().get_password(KEYRING_SERVICE, agent)
    except (os_secrets.KeyringUnavailable, *os_secrets._errors()):
        return None


def _delete(agent: str) -> None:
    from crewos_tui import secrets as os_secrets

    try:
        kr = os_secrets._backend()
        if kr.get_password(KEYRING_SERVICE, agent) is not None:
            kr.delete_password(KEYRING_SERVICE, agent)
    except (os_secrets.KeyringUnavailable, *os_secrets._errors()):
        return  # nothing we can reach to delete


async def store_secret(agent: str, value: str) -> None:
    await asyncio.to_thread(_store, agent, value)


async def read_secret(agent: str) -> str | None:
    return await asyncio.to_thread(_read, agent)


async def delete_secret(agent: str) -> None:
    await asyncio.to_thread(_delete, agent)
