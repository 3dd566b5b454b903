"""Tasks and task reviews over HTTP."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..schemas import Deleted, Page
from ..schemas.common import DEFAULT_LIMIT
from ..schemas.tasks import (
    AgentRun,
    AgentRunCreate,
    AgentRunUpdate,
    Task,
    TaskCreate,
    TaskDependency,
    TaskDetail,
    TaskEvent,
    TaskEventCreate,
    TaskUpdate,
)
from .http import API, as_model, as_page, gone, paging, seg

if TYPE_CHECKING:
    from .http import HttpClient


class RemoteTasks:
    def __init__(self, backend: HttpClient) -> None:
        self._b = backend

    @staticmethod
    def _t(task_id: str, *rest: str) -> str:
        return "/".join([f"{API}/tasks", seg(task_id), *rest])

    async def create(self, data: TaskCreate) -> Task:
        return as_model(Task, await self._b.create(f"{API}/tasks", json=data.model_dump(mode="json")))

    async def list(
        self,
        project_id: str | None = None,
        status: str | None = None,
        assignee_id: str | None = None,
        q: str | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[Task]:
        params = paging(limit, cursor, project_id=project_id, status=status, assignee_id=assignee_id, q=q)
        return as_page(Task, await self._b.request("GET", f"{API}/tasks", params=params))

    async def get(self, task_id: str) -> TaskDetail:
        return as_model(TaskDetail, await self._b.request("GET", self._t(task_id)))

    async def update(self, task_id: str, data: TaskUpdate) -> Task:
        # exclude_unset: "assignee_id": null (unassign) differs from not sending it.
        payload = await self._b.request("PATCH", self._t(task_id), json=data.model_dump(mode="json",
                                                                                        exclude_unset=True))
        return as_model(Task, payload)

    async def delete(self, task_id: str) -> Deleted:
        return as_model(Deleted, await self._b.request("DELETE", self._t(task_id), gone=gone(task_id)))

    async def set_status(self, task_id: str, status: str, reason: str = "") -> Task:
        return await self._status("POST", task_id, status, reason)

    async def patch_status(self, task_id: str, status: str, reason: str = "") -> Task:
        return await self._status("PATCH", task_id, status, reason)

    async def _status(self, method: str, task_id: str, status: str, reason: str) -> Task:
        payload = await self._b.request(method, self._t(task_id, "status"),
                                        json={"status": str(getattr(status, "value", status)), "reason": reason})
        return as_model(Task, payload)

    async def retry(self, task_id: str, reason: str = "") -> Task:
        return as_model(Task, await self._b.request("POST", self._t(task_id, "retry"), json={"reason": reason}))

    async def list_events(self, task_id: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None
                          ) -> Page[TaskEvent]:
        payload = await self._b.request("GET", self._t(task_id, "events"), params=paging(limit, cursor))
        return as_page(TaskEvent, payload)

    async def add_event(self, task_id: str, data: TaskEventCreate) -> TaskEvent:
        payload = await self._b.create(self._t(task_id, "events"), json=data.model_dump(mode="json"))
        return as_model(TaskEvent, payload)

    async def add_dependency(self, task_id: str, blocks_task_id: str) -> TaskDependency:
        payload = await self._b.create(self._t(task_id, "dependencies"),
                                       json={"blocks_task_id": blocks_task_id})
        return as_model(TaskDependency, payload)

    async def remove_dependency(self, task_id: str, blocks_task_id: str) -> Deleted:
        payload = await self._b.request("DELETE", self._t(task_id, "dependencies", seg(blocks_task_id)),
                                        gone=gone(blocks_task_id))
        return as_model(Deleted, payload)

    async def create_agent_run(self, task_id: str, data: AgentRunCreate) -> AgentRun:
        payload = await self._b.create(self._t(task_id, "agent-runs"),
                                       json=data.model_dump(mode="json", exclude_none=True))
        return as_model(AgentRun, payload)

    async def update_agent_run(self, run_id: str, data: AgentRunUpdate) -> AgentRun:
        payload = await self._b.request("PATCH", f"{API}/tasks/agent-runs/{seg(run_id)}",
                                        json=data.model_dump(mode="json", exclude_unset=True))
        return as_model(AgentRun, payload)

    async def approve(self, task_id: str, comment: str = "") -> Task:
        return await self._decide(task_id, "approve", comment)

    async def request_rework(self, task_id: str, comment: str) -> Task:
        return await self._decide(task_id, "request-rework", comment)

    async def block(self, task_id: str, comment: str) -> Task:
        return await self._decide(task_id, "block", comment)

    async def _decide(self, task_id: str, decision: str, comment: str) -> Task:
        payload = await self._b.request("POST", self._t(task_id, "review", decision), json={"comment": comment})
        return as_model(Task, payload)
