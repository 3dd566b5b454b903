"""The local CrewOS service layer: all domain logic lives in these modules.

``Services`` is the one object the local backend and the HTTP server hold; a new
slice adds one attribute in ``__init__``. Each domain service takes a ``Principal`` as
the first argument of every method, runs one transaction per call and raises
``crewos_tui.backend.errors`` errors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...ids import Clock, IdGenerator
from ..context import ServiceContext, Settings
from ..db import Database
from ..events import EventBus
from .admin import AdminService
from .agent_jobs import AgentJobService
from .artifacts import ArtifactService
from .auth import AuthService
from .capability_gaps import CapabilityGapService
from .chat import AgentDiscoveryService, ChatService, SessionService
from .health import HealthService
from .knowledge import KnowledgeService
from .notifications import NotificationService
from .projects import ProjectService
from .review import ReviewService
from .tasks import TaskService
from .testing import ScenarioTestingService
from .tokens import TokenizationService
from .validation import ValidationService


class Services:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.auth = AuthService(ctx)
        self.health = HealthService(ctx)
        self.projects = ProjectService(ctx)
        self.tasks = TaskService(ctx)
        self.agent_jobs = AgentJobService(ctx)
        self.tokenization = TokenizationService(ctx)
        self.notifications = NotificationService(ctx)
        self.agents = AgentDiscoveryService(ctx)
        self.chat = ChatService(ctx)
        self.sessions = SessionService(ctx)
        self.review = ReviewService(ctx)
        self.validation = ValidationService(ctx)
        self.testing = ScenarioTestingService(ctx)
        self.capability_gaps = CapabilityGapService(ctx)
        self.admin = AdminService(ctx)
        self.knowledge = KnowledgeService(ctx)
        self.artifacts = ArtifactService(ctx)

    @property
    def domains(self) -> dict[str, Any]:
        """Every domain service by its Backend attribute name (the local backend binds these)."""
        return {name: svc for name, svc in vars(self).items() if name != "ctx" and not name.startswith("_")}

    async def start_background(self, *, watch_seconds: float | None = None, **runner_options: Any) -> None:
        """Start the work this process does for the database it owns: the durable job
        runner (``local/jobs.py``) and the watch for other processes' commits
        (``local/commit_watch.py``). The TUI's local mode and the server call it."""
        from ..commit_watch import CommitWatcher
        from ..jobs import JobRunner

        if getattr(self, "_commit_watch", None) is None:
            self._commit_watch = CommitWatcher(self.ctx.db.path, self.ctx.events, interval=watch_seconds)
            await self._commit_watch.start()
        if getattr(self, "_job_runner", None) is None:
            self._job_runner = JobRunner(self, **runner_options)
            await self._job_runner.start()

    async def stop_background(self) -> None:
        runner, self._job_runner = getattr(self, "_job_runner", None), None
        if runner is not None:
            await runner.stop()
        watch, self._commit_watch = getattr(self, "_commit_watch", None), None
        if watch is not None:
            await watch.stop()

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
        await self.stop_background()
        await self.chat.close()  # its worker lease: what it leaves unfinished is swept at once
        await self.ctx.db.close()
