"""Durable agent jobs over HTTP."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..schemas import Page
from ..schemas.agent_jobs import AgentJob, AgentJobCreate, AgentJobEvent
from ..schemas.common import DEFAULT_LIMIT
from .http import API, as_model, as_page, paging, seg

if TYPE_CHECKING:
    from .http import HttpClient


class RemoteAgentJobs:
    def __init__(self, backend: HttpClient) -> None:
        self._b = backend

    async def create(self, data: AgentJobCreate) -> AgentJob:
        return as_model(AgentJob, await self._b.create(f"{API}/agent-jobs", json=data.model_dump(mode="json")))

    async def list(
        self,
        project_id: str | None = None,
        status: str | None = None,
        kind: str | None = None,
        task_id: str | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[AgentJob]:
        params = paging(limit, cursor, project_id=project_id, status=status, kind=kind, task_id=task_id)
        return as_page(AgentJob, await self._b.request("GET", f"{API}/agent-jobs", params=params))

    async def get(self, job_id: str) -> AgentJob:
        return as_model(AgentJob, await self._b.request("GET", f"{API}/agent-jobs/{seg(job_id)}"))

    async def list_events(self, job_id: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None
                          ) -> Page[AgentJobEvent]:
        payload = await self._b.request("GET", f"{API}/agent-jobs/{seg(job_id)}/events",
                                        params=paging(limit, cursor))
        return as_page(AgentJobEvent, payload)

    async def cancel(self, job_id: str) -> AgentJob:
        return as_model(AgentJob, await self._b.request("POST", f"{API}/agent-jobs/{seg(job_id)}/cancel"))
