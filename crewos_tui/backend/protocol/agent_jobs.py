"""What the Backend offers for durable agent jobs."""

from __future__ import annotations

from typing import Protocol

from ..schemas import Page
from ..schemas.agent_jobs import AgentJob, AgentJobCreate, AgentJobEvent
from ..schemas.common import DEFAULT_LIMIT


class AgentJobsAPI(Protocol):
    async def create(self, data: AgentJobCreate) -> AgentJob:
        """Queue a job of a supported kind; an unknown kind is 422 listing the supported ones."""
        ...

    async def list(
        self,
        project_id: str | None = None,
        status: str | None = None,
        kind: str | None = None,
        task_id: str | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[AgentJob]:
        """Jobs the caller can see (theirs, and their projects'), newest first."""
        ...

    async def get(self, job_id: str) -> AgentJob:
        """Status, progress, health (heartbeat and lease) and result of one job."""
        ...

    async def list_events(self, job_id: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None
                          ) -> Page[AgentJobEvent]:
        """The job's events, oldest first."""
        ...

    async def cancel(self, job_id: str) -> AgentJob:
        """Cancel a queued job, or ask a running one to stop."""
        ...
