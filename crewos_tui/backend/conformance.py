"""Static conformance: both backends are assignable to ``Backend``.

Nothing imports this module at run time; the type checker (``pyright``, configured
in ``pyproject.toml``) evaluates it, so a missing or drifting method in a remote
client, or a domain attribute of the wrong type, is a type error here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .local.backend import LocalBackend
    from .protocol import Backend
    from .remote import RemoteBackend


def _remote(b: RemoteBackend) -> Backend:
    return b


def _local(b: LocalBackend) -> Backend:
    return b
