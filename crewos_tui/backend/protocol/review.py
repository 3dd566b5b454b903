"""What the Backend offers for review, validation, testing and capability gaps."""

from __future__ import annotations

from typing import Protocol

from ..schemas import (
    CapabilityGapFinding,
    CapabilityGapReport,
    CapabilityGapReportRun,
    FindingStatusUpdate,
    FindingTaskCreate,
    FindingTaskCreated,
    Page,
    ReviewAttachmentContent,
    ReviewBatch,
    ReviewBatchResult,
    ReviewItem,
    ReviewItemCreate,
    ReviewStats,
    ReviewTranscript,
    Scenario,
    ScenarioRun,
    ScenarioRunCreate,
    ValidationConfig,
    ValidationRequest,
    ValidationResult,
)
from ..schemas.common import DEFAULT_LIMIT


class ReviewAPI(Protocol):
    async def list(
        self,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
        state: str | None = None,
        project_id: str | None = None,
        kind: str | None = None,
        submitter_id: str | None = None,
        requested_of_me: bool = False,
        q: str | None = None,
        order: str = "newest",
    ) -> Page[ReviewItem]:
        """Review items the caller can see; ``state="open"`` = pending or quarantined;
        ``order`` is newest, oldest (first in, first out) or priority."""
        ...

    async def submit(self, data: ReviewItemCreate) -> ReviewItem:
        """Submit an item for review (with payload, transcript, attachments, reviewers)."""
        ...

    async def stats(self, project_id: str | None = None) -> ReviewStats:
        """Counts by state, project and age; median time to decision; my decisions today."""
        ...

    async def get(self, item_id: str) -> ReviewItem:
        """One item with its decision history."""
        ...

    async def approve(self, item_id: str, reason: str = "") -> ReviewItem:
        """pending → approved (reviewer role; never one's own submission)."""
        ...

    async def reject(self, item_id: str, reason: str = "") -> ReviewItem:
        """pending or quarantined → rejected."""
        ...

    async def quarantine(self, item_id: str, reason: str = "") -> ReviewItem:
        """pending → quarantined; needs a reason."""
        ...

    async def decide_batch(self, data: ReviewBatch) -> ReviewBatchResult:
        """Apply many decisions (approve, reject, quarantine, release) all or nothing."""
        ...

    async def transcript(self, item_id: str) -> ReviewTranscript:
        """The item's transcript, as messages and as markdown."""
        ...

    async def download_attachment(self, item_id: str, index: int) -> ReviewAttachmentContent:
        """The bytes of attachment ``index`` (0-based) with its name and content type."""
        ...


class ValidationAPI(Protocol):
    async def validate(self, data: ValidationRequest) -> ValidationResult:
        """Score an output (or a review item's payload) against a rubric; the run is logged."""
        ...

    async def logs(
        self,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
        item_id: str | None = None,
        project_id: str | None = None,
        passed: bool | None = None,
        source: str | None = None,
    ) -> Page[ValidationResult]:
        """Validation runs, newest first."""
        ...

    async def config(self) -> ValidationConfig:
        """The default rubric, the checks and the JSON Schema keywords supported."""
        ...


class ScenarioTestingAPI(Protocol):
    async def run(self, data: ScenarioRunCreate) -> ScenarioRun:
        """Start a run of configured scenarios (a durable job); poll ``get_run``."""
        ...

    async def list_runs(
        self, limit: int = DEFAULT_LIMIT, cursor: str | None = None, status: str | None = None
    ) -> Page[ScenarioRun]:
        """Test runs, newest first."""
        ...

    async def get_run(self, run_id: str) -> ScenarioRun:
        """One run with its per-scenario results."""
        ...

    async def list_scenarios(self, limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> Page[Scenario]:
        """The configured scenarios."""
        ...


class CapabilityGapsAPI(Protocol):
    async def list_reports(
        self, limit: int = DEFAULT_LIMIT, cursor: str | None = None, project_id: str | None = None
    ) -> Page[CapabilityGapReport]:
        """Capability-gap reports, newest first."""
        ...

    async def run_report(self, data: CapabilityGapReportRun) -> CapabilityGapReport:
        """Scan recent failures and record findings."""
        ...

    async def get_report(self, report_id: str) -> CapabilityGapReport:
        """One report with its findings."""
        ...

    async def list_findings(
        self,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
        status: str | None = None,
        severity: str | None = None,
        project_id: str | None = None,
        report_id: str | None = None,
    ) -> Page[CapabilityGapFinding]:
        """Findings, newest first."""
        ...

    async def update_finding_status(self, finding_id: str, data: FindingStatusUpdate) -> CapabilityGapFinding:
        """open → acknowledged → resolved | wont_fix."""
        ...

    async def create_task(self, finding_id: str, data: FindingTaskCreate) -> FindingTaskCreated:
        """Turn a finding into a task in a project."""
        ...
