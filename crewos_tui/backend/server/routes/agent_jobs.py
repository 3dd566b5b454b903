"""Durable agent jobs: /api/v1/agent-jobs/..."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ...schemas import Page
from ...schemas.agent_jobs import AgentJob, AgentJobCreate, AgentJobEvent
from ..auth import Caller, ServicesDep
from ._common import AUTHED_ERRORS, DEFAULT_LIMIT, CrewOSRoute, CursorQuery, LimitQuery

router = APIRouter(route_class=CrewOSRoute, prefix="/api/v1/agent-jobs", tags=["agent jobs"], responses=AUTHED_ERRORS)
Optional = Annotated[str | None, Query(max_length=200)]


@router.post("", status_code=201, response_model=AgentJob,
             summary="Create a durable background job for a supported job kind")
async def create_job(body: AgentJobCreate, services: ServicesDep, principal: Caller) -> AgentJob:
    return await services.agent_jobs.create(principal, body)


@router.get("", response_model=Page[AgentJob], summary="List durable background jobs")
async def list_jobs(
    services: ServicesDep,
    principal: Caller,
    project_id: Optional = None,
    status: Optional = None,
    kind: Optional = None,
    task_id: Optional = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> Page[AgentJob]:
    return await services.agent_jobs.list(principal, project_id=project_id, status=status, kind=kind,
                                          task_id=task_id, limit=limit, cursor=cursor)


@router.get("/{job_id}", response_model=AgentJob,
            summary="Get durable job status, progress, health and result payload")
async def get_job(job_id: str, services: ServicesDep, principal: Caller) -> AgentJob:
    return await services.agent_jobs.get(principal, job_id)


@router.get("/{job_id}/events", response_model=Page[AgentJobEvent],
            summary="List durable job events")
async def list_job_events(
    job_id: str, services: ServicesDep, principal: Caller,
    limit: LimitQuery = DEFAULT_LIMIT, cursor: CursorQuery = None,
) -> Page[AgentJobEvent]:
    return await services.agent_jobs.list_events(principal, job_id, limit=limit, cursor=cursor)


@router.post("/{job_id}/cancel", response_model=AgentJob,
             summary="Request durable job cancellation")
async def cancel_job(job_id: str, services: ServicesDep, principal: Caller) -> AgentJob:
    return await services.agent_jobs.cancel(principal, job_id)
