"""Liveness and readiness of the service layer."""

from __future__ import annotations

from sqlalchemy import text

from ... import errors
from ...principal import Principal
from ...schemas import Liveness, Readiness
from ..context import ServiceContext
from ..db import SCHEMA_VERSION


def _version() -> str:
    from .... import __version__

    return __version__


class HealthService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    async def live(self, principal: Principal) -> Liveness:
        return Liveness(version=_version())

    async def ready(self, principal: Principal) -> Readiness:
        """Ready = the database answers and its schema is the one this code expects."""
        try:
            async with self.ctx.db.read() as s:
                await s.execute(text("SELECT 1"))
            version = await self.ctx.db.schema_version()
        except Exception as exc:  # any driver failure means "not ready", with the reason
            raise errors.Unavailable(f"database not reachable: {exc.__class__.__name__}: {exc}") from None
        if version != SCHEMA_VERSION:
            raise errors.Unavailable(f"database schema is version {version}, expected {SCHEMA_VERSION}")
        return Readiness(status="ready", version=_version(), database="ok", schema_version=version,
                         expected_schema_version=SCHEMA_VERSION)
