"""The local CrewOS service layer: all domain logic lives in these modules.

``Services`` is the one object the local backend and the HTTP server hold; a new
slice adds one attribute in ``__init__``. Each domain service takes a ``Principal`` as the first argument of every method, runs
one transaction per call and raises ``crewos_tui.backend.errors`` errors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...ids import Clock, IdGenerator
from ..context import ServiceContext, Settings
from ..db import Database
from ..events import EventBus
from .auth import AuthService
from .health import HealthService
from .projects import ProjectService


class Services:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.auth = AuthService(ctx)
        self.health = HealthService(ctx)
        self.projects = ProjectService(ctx)

    @property
    def domains(self) -> dict[str, Any]:
        """Every domain service by its Backend attribute name (the local backend binds these)."""
        return {name: svc for name, svc in vars(self).items() if name != "ctx"}

    @classmethod
    async def open(
        cls,
        path: Path | str,
        *,
        clock: Clock | None = None,
        ids: IdGenerator | None = None,
        settings: Settings | None = None,
    ) -> Services:
        """Open (creating or migrating) the database at ``path``."""
        clock = clock or Clock()
        ids = ids or IdGenerator(clock)
        db = Database(path)
        await db.migrate()
        ctx = ServiceContext(db=db, clock=clock, ids=ids, settings=settings or Settings(), events=EventBus(clock, ids))
        return cls(ctx)

    async def close(self) -> None:
        await self.ctx.db.close()
