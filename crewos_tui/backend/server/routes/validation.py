"""Validation scoring: /api/v1/validation/..."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ...schemas import Page, ValidationConfig, ValidationRequest, ValidationResult
from ..auth import Caller, ServicesDep
from ._common import AUTHED_ERRORS, DEFAULT_LIMIT, CrewOSRoute, CursorQuery, LimitQuery

router = APIRouter(route_class=CrewOSRoute, prefix="/api/v1/validation", tags=["validation"], responses=AUTHED_ERRORS)


@router.post("/validate", response_model=ValidationResult,
             summary="Score an output against a rubric (the run is logged)")
async def validate(body: ValidationRequest, services: ServicesDep, principal: Caller) -> ValidationResult:
    return await services.validation.validate(principal, body)


@router.get("/logs", response_model=Page[ValidationResult], summary="List validation runs, newest first")
async def logs(
    services: ServicesDep,
    principal: Caller,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
    item_id: str | None = None,
    project_id: str | None = None,
    passed: bool | None = None,
    source: Annotated[str | None, Query(max_length=32, description="api, review or testing.")] = None,
) -> Page[ValidationResult]:
    return await services.validation.logs(principal, limit=limit, cursor=cursor, item_id=item_id,
                                          project_id=project_id, passed=passed, source=source)


@router.get("/config", response_model=ValidationConfig, summary="Read the default validation config")
async def config(services: ServicesDep, principal: Caller) -> ValidationConfig:
    return await services.validation.config(principal)
