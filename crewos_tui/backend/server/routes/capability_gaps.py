"""Capability-gap reports and findings: /api/v1/capability-gaps/..."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from ...schemas import (
    CapabilityGapFinding,
    CapabilityGapReport,
    CapabilityGapReportRun,
    FindingStatusUpdate,
    FindingTaskCreate,
    FindingTaskCreated,
    GapSeverity,
    GapStatus,
    Page,
)
from ..auth import Caller, ServicesDep
from ._common import AUTHED_ERRORS, DEFAULT_LIMIT, CrewOSRoute, CursorQuery, LimitQuery

router = APIRouter(route_class=CrewOSRoute, prefix="/api/v1/capability-gaps", tags=["capability gaps"],
                   responses=AUTHED_ERRORS)


@router.get("/reports", response_model=Page[CapabilityGapReport], summary="List capability-gap reports")
async def list_reports(
    services: ServicesDep, principal: Caller, limit: LimitQuery = DEFAULT_LIMIT, cursor: CursorQuery = None,
    project_id: str | None = None,
) -> Page[CapabilityGapReport]:
    return await services.capability_gaps.list_reports(principal, limit=limit, cursor=cursor, project_id=project_id)


@router.post("/reports/run", status_code=201, response_model=CapabilityGapReport,
             summary="Run a capability-gap report over recent failures")
async def run_report(
    services: ServicesDep, principal: Caller,
    body: Annotated[CapabilityGapReportRun | None, Body()] = None,
) -> CapabilityGapReport:
    # An empty body scans everything the caller can see over the default window.
    return await services.capability_gaps.run_report(principal, body or CapabilityGapReportRun())


@router.get("/reports/{report_id}", response_model=CapabilityGapReport,
            summary="Fetch one capability-gap report with its findings")
async def get_report(report_id: str, services: ServicesDep, principal: Caller) -> CapabilityGapReport:
    return await services.capability_gaps.get_report(principal, report_id)


@router.get("/findings", response_model=Page[CapabilityGapFinding], summary="List capability-gap findings")
async def list_findings(
    services: ServicesDep, principal: Caller, limit: LimitQuery = DEFAULT_LIMIT, cursor: CursorQuery = None,
    status: GapStatus | None = None, severity: GapSeverity | None = None, project_id: str | None = None,
    report_id: str | None = None,
) -> Page[CapabilityGapFinding]:
    return await services.capability_gaps.list_findings(
        principal, limit=limit, cursor=cursor, status=status.value if status else None,
        severity=severity.value if severity else None, project_id=project_id, report_id=report_id)


@router.post("/findings/{finding_id}/status", response_model=CapabilityGapFinding,
             summary="Update a capability-gap finding status")
async def update_status(
    finding_id: str, body: FindingStatusUpdate, services: ServicesDep, principal: Caller
) -> CapabilityGapFinding:
    return await services.capability_gaps.update_finding_status(principal, finding_id, body)


@router.post("/findings/{finding_id}/create-task", status_code=201, response_model=FindingTaskCreated,
             summary="Create a task from a capability-gap finding")
async def create_task(
    finding_id: str, body: FindingTaskCreate, services: ServicesDep, principal: Caller
) -> FindingTaskCreated:
    return await services.capability_gaps.create_task(principal, finding_id, body)
