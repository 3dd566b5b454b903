"""What the Backend offers for health probes."""

from __future__ import annotations

from typing import Protocol

from ..schemas import (
    Liveness,
    Readiness,
)


class HealthAPI(Protocol):
    async def live(self) -> Liveness:
        """The process is up."""
        ...

    async def ready(self) -> Readiness:
        """The database is reachable and migrated (``Unavailable`` otherwise)."""
        ...
