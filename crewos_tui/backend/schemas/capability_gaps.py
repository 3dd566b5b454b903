"""Capability gaps: reports that scan recent failures, and the findings they produce."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints

from .common import Id, Request, Wire
from .text import MULTI_LINE, ONE_LINE

__all__ = [
    "CapabilityGapFinding",
    "CapabilityGapReport",
    "CapabilityGapReportRun",
    "FindingStatusUpdate",
    "FindingTaskCreate",
    "FindingTaskCreated",
    "GapEvidence",
    "GapSeverity",
    "GapStatus",
]


class GapSeverity(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


class GapStatus(StrEnum):
    open = "open"
    acknowledged = "acknowledged"
    resolved = "resolved"
    wont_fix = "wont_fix"


class GapEvidence(Wire):
    source: str  # task | review | scenario | validation | feedback
    ref_id: str
    title: str = ""
    detail: str = ""
    at: datetime | None = None


class CapabilityGapFinding(Wire):
    id: str
    fingerprint: str
    capability: str
    title: str
    summary: str
    severity: GapSeverity
    status: GapStatus
    project_id: str | None = None
    report_id: str
    last_report_id: str
    evidence: list[GapEvidence] = Field(default_factory=list[GapEvidence])
    evidence_count: int = 0
    task_id: str | None = None
    status_note: str = ""
    status_changed_by: str | None = None
    created_at: datetime
    updated_at: datetime


class CapabilityGapReportRun(Request):
    #: Limit the scan to one project; omitted = everything the caller can see.
    project_id: Id | None = None
    since_days: Annotated[int, Field(ge=1, le=365)] = 30


class CapabilityGapReport(Wire):
    id: str
    project_id: str | None = None
    since: datetime
    until: datetime
    #: Rows scanned per source; sources whose slice is not installed are in ``skipped_sources``.
    scanned: dict[str, int] = Field(default_factory=dict)
    skipped_sources: list[str] = Field(default_factory=list)
    finding_ids: list[str] = Field(default_factory=list)
    severity_counts: dict[str, int] = Field(default_factory=dict)
    actor_id: str | None = None
    actor: str = ""
    created_at: datetime
    #: The findings themselves (only in the one-report answer).
    findings: list[CapabilityGapFinding] = Field(default_factory=list[CapabilityGapFinding])


class FindingStatusUpdate(Request):
    status: GapStatus
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000), MULTI_LINE] = ""


class FindingTaskCreate(Request):
    project_id: Id
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
                     ONE_LINE] | None = None
    assignee_id: Id | None = None


class FindingTaskCreated(Wire):
    finding: CapabilityGapFinding
    task_id: str
    project_id: str
    title: str
