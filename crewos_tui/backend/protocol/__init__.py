"""The Backend interface: what every screen may call.

Two implementations: ``LocalBackend`` (the embedded service layer on SQLite) and
``RemoteBackend`` (httpx against a CrewOS server). Both raise the errors of
``crewos_tui.backend.errors``. Every list method takes ``limit``/``cursor`` and
returns a ``Page``. The local service methods have these same signatures with a
``Principal`` as their first argument; the local backend binds it. One Protocol
per domain lives in its own module here; a new slice adds its module and one
attribute to ``Backend``.
"""

from __future__ import annotations

from typing import Protocol

from .auth import AuthAPI
from .health import HealthAPI
from .projects import ProjectsAPI

__all__ = ["AuthAPI", "Backend", "HealthAPI", "ProjectsAPI"]


class Backend(Protocol):
    """What the app holds: one object per domain, plus a description of itself."""

    mode: str  # "local" | "remote"
    auth: AuthAPI
    health: HealthAPI
    projects: ProjectsAPI

    async def close(self) -> None:
        """Release connections."""
