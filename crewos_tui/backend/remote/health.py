"""Health probes over HTTP."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..schemas import (
    Liveness,
    Readiness,
)
from .http import as_model

if TYPE_CHECKING:
    from .http import HttpClient


class RemoteHealth:
    def __init__(self, backend: HttpClient) -> None:
        self._b = backend

    async def live(self) -> Liveness:
        return as_model(Liveness, await self._b.request("GET", "/health/live", credential="public"))

    async def ready(self) -> Readiness:
        return as_model(Readiness, await self._b.request("GET", "/health/ready", credential="public"))
