"""Tasks and task reviews: /api/v1/tasks/..."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query

from ...schemas import Deleted, Page
from ...schemas.tasks import (
    AgentRun,
    AgentRunCreate,
    AgentRunUpdate,
    DependencyCreate,
    ReviewDecision,
    Task,
    TaskCreate,
    TaskDependency,
    TaskDetail,
    TaskEvent,
    TaskEventCreate,
    TaskRetry,
    TaskStatusChange,
    TaskUpdate,
)
from ..auth import Caller, ServicesDep
from ._common import AUTHED_ERRORS, DEFAULT_LIMIT, CrewOSRoute, CursorQuery, LimitQuery

router = APIRouter(route_class=CrewOSRoute, prefix="/api/v1/tasks", tags=["tasks"], responses=AUTHED_ERRORS)
Optional = Annotated[str | None, Query(max_length=200)]


# Declared before /{task_id}/...: a fixed segment must win over a path parameter.
@router.patch("/agent-runs/{run_id}", response_model=AgentRun,
              summary="Update a task agent-run record")
async def update_agent_run(run_id: str, body: AgentRunUpdate, services: ServicesDep, principal: Caller) -> AgentRun:
    return await services.tasks.update_agent_run(principal, run_id, body)


@router.post("", status_code=201, response_model=Task, summary="Create a managed task")
async def create_task(body: TaskCreate, services: ServicesDep, principal: Caller) -> Task:
    return await services.tasks.create(principal, body)


@router.get("", response_model=Page[Task], summary="List tasks visible to the caller")
async def list_tasks(
    services: ServicesDep,
    principal: Caller,
    project_id: Optional = None,
    status: Optional = None,
    assignee_id: Optional = None,
    q: Optional = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> Page[Task]:
    return await services.tasks.list(principal, project_id=project_id, status=status, assignee_id=assignee_id, q=q,
                                     limit=limit, cursor=cursor)


@router.get("/{task_id}", response_model=TaskDetail,
            summary="Fetch task detail, events, dependencies, agent runs and review metadata")
async def get_task(task_id: str, services: ServicesDep, principal: Caller) -> TaskDetail:
    return await services.tasks.get(principal, task_id)


@router.patch("/{task_id}", response_model=Task, summary="Update task metadata")
async def update_task(task_id: str, body: TaskUpdate, services: ServicesDep, principal: Caller) -> Task:
    return await services.tasks.update(principal, task_id, body)


@router.delete("/{task_id}", response_model=Deleted, summary="Delete a task when permitted")
async def delete_task(task_id: str, services: ServicesDep, principal: Caller) -> Deleted:
    return await services.tasks.delete(principal, task_id)


@router.post("/{task_id}/status", response_model=Task, summary="Update task status")
async def post_status(task_id: str, body: TaskStatusChange, services: ServicesDep, principal: Caller) -> Task:
    return await services.tasks.set_status(principal, task_id, body.status, body.reason)


@router.patch("/{task_id}/status", response_model=Task, summary="Patch task status")
async def patch_status(task_id: str, body: TaskStatusChange, services: ServicesDep, principal: Caller) -> Task:
    return await services.tasks.patch_status(principal, task_id, body.status, body.reason)


@router.post("/{task_id}/retry", response_model=Task, summary="Retry task execution")
async def retry_task(
    task_id: str, services: ServicesDep, principal: Caller, body: Annotated[TaskRetry | None, Body()] = None
) -> Task:
    return await services.tasks.retry(principal, task_id, body.reason if body else "")


@router.get("/{task_id}/events", response_model=Page[TaskEvent], summary="List task timeline events")
async def list_task_events(
    task_id: str, services: ServicesDep, principal: Caller,
    limit: LimitQuery = DEFAULT_LIMIT, cursor: CursorQuery = None,
) -> Page[TaskEvent]:
    return await services.tasks.list_events(principal, task_id, limit=limit, cursor=cursor)


@router.post("/{task_id}/events", status_code=201, response_model=TaskEvent,
             summary="Append a task event")
async def add_task_event(task_id: str, body: TaskEventCreate, services: ServicesDep, principal: Caller) -> TaskEvent:
    return await services.tasks.add_event(principal, task_id, body)


@router.post("/{task_id}/dependencies", status_code=201, response_model=TaskDependency,
             summary="Add a task dependency (this task waits for blocks_task_id)")
async def add_dependency(
    task_id: str, body: DependencyCreate, services: ServicesDep, principal: Caller
) -> TaskDependency:
    return await services.tasks.add_dependency(principal, task_id, body.blocks_task_id)


@router.delete("/{task_id}/dependencies/{blocks_task_id}", response_model=Deleted,
               summary="Remove a task dependency")
async def remove_dependency(task_id: str, blocks_task_id: str, services: ServicesDep, principal: Caller) -> Deleted:
    return await services.tasks.remove_dependency(principal, task_id, blocks_task_id)


@router.post("/{task_id}/agent-runs", status_code=201, response_model=AgentRun,
             summary="Create or attach a task agent-run record")
async def create_agent_run(task_id: str, body: AgentRunCreate, services: ServicesDep, principal: Caller) -> AgentRun:
    return await services.tasks.create_agent_run(principal, task_id, body)


def _comment(body: ReviewDecision | None) -> str:
    return body.comment if body else ""


@router.post("/{task_id}/review/approve", response_model=Task, summary="Approve a task review")
async def approve_review(
    task_id: str, services: ServicesDep, principal: Caller, body: Annotated[ReviewDecision | None, Body()] = None
) -> Task:
    return await services.tasks.approve(principal, task_id, _comment(body))


@router.post("/{task_id}/review/request-rework", response_model=Task,
             summary="Request rework on a task review")
async def request_rework(
    task_id: str, services: ServicesDep, principal: Caller, body: Annotated[ReviewDecision | None, Body()] = None
) -> Task:
    return await services.tasks.request_rework(principal, task_id, _comment(body))


@router.post("/{task_id}/review/block", response_model=Task,
             summary="Block a task from review completion")
async def block_review(
    task_id: str, services: ServicesDep, principal: Caller, body: Annotated[ReviewDecision | None, Body()] = None
) -> Task:
    return await services.tasks.block(principal, task_id, _comment(body))
