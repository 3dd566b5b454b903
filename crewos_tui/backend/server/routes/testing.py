"""Scenario test runs: /api/v1/testing/..."""

from __future__ import annotations

from fastapi import APIRouter

from ...schemas import Page, Scenario, ScenarioRun, ScenarioRunCreate, ScenarioRunStatus
from ..auth import Caller, ServicesDep
from ._common import AUTHED_ERRORS, DEFAULT_LIMIT, CrewOSRoute, CursorQuery, LimitQuery

router = APIRouter(route_class=CrewOSRoute, prefix="/api/v1/testing", tags=["testing"], responses=AUTHED_ERRORS)


@router.post("/run", status_code=201, response_model=ScenarioRun,
             summary="Start a run of configured scenarios (a durable job; poll the run)")
async def run(body: ScenarioRunCreate, services: ServicesDep, principal: Caller) -> ScenarioRun:
    return await services.testing.run(principal, body)


@router.get("/runs", response_model=Page[ScenarioRun], summary="List test runs, newest first")
async def list_runs(
    services: ServicesDep, principal: Caller, limit: LimitQuery = DEFAULT_LIMIT, cursor: CursorQuery = None,
    status: ScenarioRunStatus | None = None,
) -> Page[ScenarioRun]:
    return await services.testing.list_runs(principal, limit=limit, cursor=cursor,
                                            status=status.value if status else None)


@router.get("/runs/{run_id}", response_model=ScenarioRun, summary="Fetch one test run")
async def get_run(run_id: str, services: ServicesDep, principal: Caller) -> ScenarioRun:
    return await services.testing.get_run(principal, run_id)


@router.get("/scenarios", response_model=Page[Scenario], summary="List configured test scenarios")
async def list_scenarios(
    services: ServicesDep, principal: Caller, limit: LimitQuery = DEFAULT_LIMIT, cursor: CursorQuery = None,
) -> Page[Scenario]:
    return await services.testing.list_scenarios(principal, limit=limit, cursor=cursor)
