"""Review queue, validation, testing and capability gaps over HTTP."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import unquote

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
from .http import API, as_model, as_page, paging, seg

if TYPE_CHECKING:
    import httpx

    from .http import HttpClient

QUEUE = f"{API}/review/queue"


def _filename(response: httpx.Response, fallback: str) -> str:
    """The name from Content-Disposition (``filename*`` preferred), else ``fallback``."""
    header = response.headers.get("content-disposition", "")
    if m := re.search(r"filename\*=UTF-8''([^;]+)", header, re.IGNORECASE):
        return unquote(m.group(1).strip())
    if m := re.search(r'filename="?([^";]+)"?', header, re.IGNORECASE):
        return m.group(1).strip()
    return fallback


class RemoteReview:
    def __init__(self, backend: HttpClient) -> None:
        self._b = backend

    @staticmethod
    def _p(item_id: str, *rest: str) -> str:
        return "/".join([QUEUE, seg(item_id), *rest])

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
        params = paging(limit, cursor, state=state, project_id=project_id, kind=kind, submitter_id=submitter_id,
                         requested_of_me="true" if requested_of_me else None, q=q, order=order)
        return as_page(ReviewItem, await self._b.request("GET", QUEUE, params=params))

    async def submit(self, data: ReviewItemCreate) -> ReviewItem:
        payload = await self._b.create(QUEUE, json=data.model_dump(mode="json", exclude_unset=True))
        return as_model(ReviewItem, payload)

    async def stats(self, project_id: str | None = None) -> ReviewStats:
        return as_model(ReviewStats, await self._b.request("GET", f"{QUEUE}/stats",
                                                          params={"project_id": project_id}))

    async def get(self, item_id: str) -> ReviewItem:
        return as_model(ReviewItem, await self._b.request("GET", self._p(item_id)))

    async def _decide(self, item_id: str, action: str, reason: str) -> ReviewItem:
        return as_model(ReviewItem, await self._b.request("POST", self._p(item_id, action), json={"reason": reason}))

    async def approve(self, item_id: str, reason: str = "") -> ReviewItem:
        return await self._decide(item_id, "approve", reason)

    async def reject(self, item_id: str, reason: str = "") -> ReviewItem:
        return await self._decide(item_id, "reject", reason)

    async def quarantine(self, item_id: str, reason: str = "") -> ReviewItem:
        return await self._decide(item_id, "quarantine", reason)

    async def decide_batch(self, data: ReviewBatch) -> ReviewBatchResult:
        payload = await self._b.request("POST", f"{QUEUE}/batch", json=data.model_dump(mode="json"))
        return as_model(ReviewBatchResult, payload)

    async def transcript(self, item_id: str) -> ReviewTranscript:
        return as_model(ReviewTranscript, await self._b.request("GET", self._p(item_id, "transcript")))

    async def download_attachment(self, item_id: str, index: int) -> ReviewAttachmentContent:
        response = await self._b.request("GET", self._p(item_id, "attachments", str(index), "download"), raw=True)
        ctype = response.headers.get("content-type", "application/octet-stream").split(";")[0].strip()
        return ReviewAttachmentContent(filename=_filename(response, f"attachment-{index}"), content_type=ctype,
                                       size=len(response.content), content=response.content)


class RemoteValidation:
    def __init__(self, backend: HttpClient) -> None:
        self._b = backend

    async def validate(self, data: ValidationRequest) -> ValidationResult:
        payload = await self._b.request("POST", f"{API}/validation/validate",
                                        json=data.model_dump(mode="json", exclude_unset=True))
        return as_model(ValidationResult, payload)

    async def logs(
        self,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
        item_id: str | None = None,
        project_id: str | None = None,
        passed: bool | None = None,
        source: str | None = None,
    ) -> Page[ValidationResult]:
        params = paging(limit, cursor, item_id=item_id, project_id=project_id, source=source,
                         passed=None if passed is None else str(passed).lower())
        return as_page(ValidationResult, await self._b.request("GET", f"{API}/validation/logs", params=params))

    async def config(self) -> ValidationConfig:
        return as_model(ValidationConfig, await self._b.request("GET", f"{API}/validation/config"))


class RemoteTesting:
    def __init__(self, backend: HttpClient) -> None:
        self._b = backend

    async def run(self, data: ScenarioRunCreate) -> ScenarioRun:
        payload = await self._b.create(f"{API}/testing/run", json=data.model_dump(mode="json"))
        return as_model(ScenarioRun, payload)

    async def list_runs(
        self, limit: int = DEFAULT_LIMIT, cursor: str | None = None, status: str | None = None
    ) -> Page[ScenarioRun]:
        payload = await self._b.request("GET", f"{API}/testing/runs", params=paging(limit, cursor, status=status))
        return as_page(ScenarioRun, payload)

    async def get_run(self, run_id: str) -> ScenarioRun:
        return as_model(ScenarioRun, await self._b.request("GET", f"{API}/testing/runs/{seg(run_id)}"))

    async def list_scenarios(self, limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> Page[Scenario]:
        payload = await self._b.request("GET", f"{API}/testing/scenarios", params=paging(limit, cursor))
        return as_page(Scenario, payload)


class RemoteCapabilityGaps:
    def __init__(self, backend: HttpClient) -> None:
        self._b = backend

    async def list_reports(
        self, limit: int = DEFAULT_LIMIT, cursor: str | None = None, project_id: str | None = None
    ) -> Page[CapabilityGapReport]:
        payload = await self._b.request("GET", f"{API}/capability-gaps/reports",
                                        params=paging(limit, cursor, project_id=project_id))
        return as_page(CapabilityGapReport, payload)

    async def run_report(self, data: CapabilityGapReportRun) -> CapabilityGapReport:
        payload = await self._b.create(f"{API}/capability-gaps/reports/run",
                                       json=data.model_dump(mode="json"))
        return as_model(CapabilityGapReport, payload)

    async def get_report(self, report_id: str) -> CapabilityGapReport:
        payload = await self._b.request("GET", f"{API}/capability-gaps/reports/{seg(report_id)}")
        return as_model(CapabilityGapReport, payload)

    async def list_findings(
        self,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
        status: str | None = None,
        severity: str | None = None,
        project_id: str | None = None,
        report_id: str | None = None,
    ) -> Page[CapabilityGapFinding]:
        params = paging(limit, cursor, status=status, severity=severity, project_id=project_id, report_id=report_id)
        return as_page(CapabilityGapFinding, await self._b.request("GET", f"{API}/capability-gaps/findings",
                                                                  params=params))

    async def update_finding_status(self, finding_id: str, data: FindingStatusUpdate) -> CapabilityGapFinding:
        payload = await self._b.request("POST", f"{API}/capability-gaps/findings/{seg(finding_id)}/status",
                                        json=data.model_dump(mode="json"))
        return as_model(CapabilityGapFinding, payload)

    async def create_task(self, finding_id: str, data: FindingTaskCreate) -> FindingTaskCreated:
        payload = await self._b.create(f"{API}/capability-gaps/findings/{seg(finding_id)}/create-task",
                                       json=data.model_dump(mode="json", exclude_none=True))
        return as_model(FindingTaskCreated, payload)
