"""Capability gaps: run a report (a scan of recent failures), list reports and findings,
move a finding through its states, and turn a finding into a task.

Finding states (the one place they are defined):

    open ──▶ acknowledged ──▶ resolved
                          └─▶ wont_fix

A later report updates the open or acknowledged finding with the same fingerprint
(new evidence, new severity) instead of adding a duplicate; a gap that comes back
after being resolved is a new finding; a ``wont_fix`` one stays closed.

Permissions: anyone signed in (not a viewer) may run a report over what they can
see; findings of a project are read by its members and changed by its editors
and owners; project-less findings by the user whose report found them, and admins.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ....errors import Conflict, Forbidden, Invalid, NotFound
from ....principal import Principal
from ....schemas import (
    CapabilityGapFinding,
    CapabilityGapReport,
    CapabilityGapReportRun,
    FindingStatusUpdate,
    FindingTaskCreate,
    FindingTaskCreated,
    GapSeverity,
    Page,
)
from ....schemas.common import DEFAULT_LIMIT
from ...context import ServiceContext
from ...idempotency import idempotent
from ...pagination import paginate
from ...tables import CapabilityGapFindingRow, CapabilityGapReportRow, ProjectMemberRow
from .._common import require_user
from ..projects.access import load_project, member_role
from .scan import SOURCES, Scope

TRANSITIONS: dict[str, frozenset[str]] = {
    "open": frozenset({"acknowledged"}),
    "acknowledged": frozenset({"resolved", "wont_fix"}),
    "resolved": frozenset(),
    "wont_fix": frozenset(),
}
LIVE_STATES = ("open", "acknowledged")


def check_transition(current: str, target: str) -> None:
    allowed = TRANSITIONS.get(current, frozenset())
    if target not in allowed:
        nxt = ", ".join(sorted(allowed)) or "none: it is closed"
        raise Conflict(f"a finding that is {current} cannot become {target} (allowed: {nxt})")


def finding_model(row: CapabilityGapFindingRow) -> CapabilityGapFinding:
    return CapabilityGapFinding.model_validate(row)


def report_model(row: CapabilityGapReportRow, findings: list[CapabilityGapFindingRow] | None = None
                 ) -> CapabilityGapReport:
    model = CapabilityGapReport.model_validate(row)
    model.findings = [finding_model(f) for f in findings or []]
    return model


class CapabilityGapService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    # ---- visibility ------------------------------------------------------------------

    @staticmethod
    def _my_projects(principal: Principal) -> Any:
        return select(col(ProjectMemberRow.project_id)).where(col(ProjectMemberRow.user_id) == principal.user_id)

    def _visible_findings(self, principal: Principal) -> Any:
        if principal.is_admin:
            return None
        return or_(col(CapabilityGapFindingRow.project_id).in_(self._my_projects(principal)),
                   (col(CapabilityGapFindingRow.project_id).is_(None))
                   & (col(CapabilityGapFindingRow.actor_id) == principal.user_id))

    def _visible_reports(self, principal: Principal) -> Any:
        if principal.is_admin:
            return None
        return or_(col(CapabilityGapReportRow.actor_id) == principal.user_id,
                   col(CapabilityGapReportRow.project_id).in_(self._my_projects(principal)))

    async def _load_finding(self, s: AsyncSession, principal: Principal, finding_id: str) -> CapabilityGapFindingRow:
        require_user(principal)
        stmt = select(CapabilityGapFindingRow).where(col(CapabilityGapFindingRow.id) == finding_id)
        if (clause := self._visible_findings(principal)) is not None:
            stmt = stmt.where(clause)
        row = await s.scalar(stmt)
        if row is None:
            raise NotFound(f"capability-gap finding {finding_id} not found")
        return row

    async def _check_may_change(self, s: AsyncSession, principal: Principal, row: CapabilityGapFindingRow) -> None:
        if principal.is_admin:
            return
        if row.project_id is None:
            if row.actor_id != principal.user_id:
                raise Forbidden("only the user whose report found it, or an admin, may change this finding")
            return
        role = await member_role(s, row.project_id, principal.user_id)
        if role not in ("editor", "owner"):
            raise Forbidden(f"changing a finding needs the project editor role (you are {role or 'not a member'})")

    # ---- reports ---------------------------------------------------------------------

    @idempotent(CapabilityGapReport)
    async def run_report(self, principal: Principal, data: CapabilityGapReportRun) -> CapabilityGapReport:
        """Scan the last ``since_days`` days and record findings (deduplicated by fingerprint)."""
        require_user(principal)
        if principal.role == "viewer":
            raise Forbidden("viewers cannot run capability-gap reports")
        now = self.ctx.clock.now()
        since = now - timedelta(days=data.since_days)
        async with self.ctx.db.transaction() as s:
            if data.project_id is not None:
                await load_project(s, principal, data.project_id)
            projects = None
            if not principal.is_admin:
                projects = set((await s.scalars(self._my_projects(principal))).all())
            scope = Scope(since=since, projects=projects, user_id=principal.user_id, project_id=data.project_id)
            report = CapabilityGapReportRow(id=self.ctx.ids.new(), project_id=data.project_id, since=since,
                                            until=now, actor_id=principal.user_id, actor=principal.username,
                                            created_at=now)
            s.add(report)
            await s.flush()
            scanned: dict[str, int] = {}
            skipped: list[str] = []
            found: list[CapabilityGapFindingRow] = []
            for name, scan in SOURCES.items():
                outcome = await scan(s, scope)
                if outcome is None:
                    skipped.append(name)
                    continue
                scanned[name], candidates = outcome
                for c in candidates:
                    found.append(await self._record(s, report, c, principal))
            report.scanned, report.skipped_sources = scanned, skipped
            report.finding_ids = [f.id for f in found]
            counts = {sev.value: 0 for sev in GapSeverity}
            for f in found:
                counts[f.severity] += 1
            report.severity_counts = counts
            await self.ctx.events.emit(s, principal, "capability_gap.report_completed", "capability_gap_report",
                                       report.id, data.project_id, user_id=principal.user_id,
                                       findings=len(found), severity_counts=counts)
            return report_model(report, found)

    async def _record(self, s: AsyncSession, report: CapabilityGapReportRow, c: Any,
                      principal: Principal) -> CapabilityGapFindingRow:
        now = report.created_at
        # A project-less gap is about the caller's own data: their finding, not someone else's.
        fingerprint = c.fingerprint if c.project_id else f"{c.fingerprint}|user:{principal.user_id or 'system'}"
        existing = await s.scalar(select(CapabilityGapFindingRow).where(
            col(CapabilityGapFindingRow.fingerprint) == fingerprint,
            col(CapabilityGapFindingRow.status).in_((*LIVE_STATES, "wont_fix")))
            .order_by(col(CapabilityGapFindingRow.id).desc()))
        if existing is not None:
            if existing.status != "wont_fix":  # a won't-fix stays as decided; it is still listed
                existing.evidence, existing.evidence_count = c.evidence, c.count
                existing.severity, existing.summary, existing.title = c.severity, c.summary, c.title
                existing.last_report_id, existing.updated_at = report.id, now
            return existing
        row = CapabilityGapFindingRow(
            id=self.ctx.ids.new(), fingerprint=fingerprint, capability=c.capability, title=c.title,
            summary=c.summary, severity=c.severity, status="open", project_id=c.project_id, report_id=report.id,
            last_report_id=report.id, evidence=c.evidence, evidence_count=c.count, actor_id=principal.user_id,
            created_at=now, updated_at=now)
        s.add(row)
        await s.flush()
        await self.ctx.events.emit(s, principal, "capability_gap.finding_opened", "capability_gap_finding", row.id,
                                   row.project_id, severity=row.severity, capability=row.capability,
                                   user_id=principal.user_id, title=row.title)
        return row

    async def list_reports(
        self, principal: Principal, limit: int = DEFAULT_LIMIT, cursor: str | None = None,
        project_id: str | None = None,
    ) -> Page[CapabilityGapReport]:
        require_user(principal)
        stmt = select(CapabilityGapReportRow)
        if (clause := self._visible_reports(principal)) is not None:
            stmt = stmt.where(clause)
        if project_id:
            stmt = stmt.where(col(CapabilityGapReportRow.project_id) == project_id)
        async with self.ctx.db.read() as s:
            return await paginate(s, stmt, [col(CapabilityGapReportRow.id)], lambda r: [r.id], report_model,
                                  limit=limit, cursor=cursor, descending=True)

    async def get_report(self, principal: Principal, report_id: str) -> CapabilityGapReport:
        require_user(principal)
        async with self.ctx.db.read() as s:
            stmt = select(CapabilityGapReportRow).where(col(CapabilityGapReportRow.id) == report_id)
            if (clause := self._visible_reports(principal)) is not None:
                stmt = stmt.where(clause)
            row = await s.scalar(stmt)
            if row is None:
                raise NotFound(f"capability-gap report {report_id} not found")
            findings = (await s.scalars(select(CapabilityGapFindingRow).where(
                col(CapabilityGapFindingRow.id).in_(row.finding_ids or []))
                .order_by(col(CapabilityGapFindingRow.id)))).all()
            return report_model(row, list(findings))

    # ---- findings --------------------------------------------------------------------

    async def list_findings(
        self, principal: Principal, limit: int = DEFAULT_LIMIT, cursor: str | None = None,
        status: str | None = None, severity: str | None = None, project_id: str | None = None,
        report_id: str | None = None,
    ) -> Page[CapabilityGapFinding]:
        require_user(principal)
        if status is not None and status not in TRANSITIONS:
            raise Invalid(f"status must be one of {', '.join(TRANSITIONS)}")
        if severity is not None and severity not in {s.value for s in GapSeverity}:
            raise Invalid(f"severity must be one of {', '.join(s.value for s in GapSeverity)}")
        stmt = select(CapabilityGapFindingRow)
        if (clause := self._visible_findings(principal)) is not None:
            stmt = stmt.where(clause)
        if status:
            stmt = stmt.where(col(CapabilityGapFindingRow.status) == status)
        if severity:
            stmt = stmt.where(col(CapabilityGapFindingRow.severity) == severity)
        if project_id:
            stmt = stmt.where(col(CapabilityGapFindingRow.project_id) == project_id)
        if report_id:
            stmt = stmt.where(or_(col(CapabilityGapFindingRow.report_id) == report_id,
                                  col(CapabilityGapFindingRow.last_report_id) == report_id))
        async with self.ctx.db.read() as s:
            return await paginate(s, stmt, [col(CapabilityGapFindingRow.id)], lambda r: [r.id], finding_model,
                                  limit=limit, cursor=cursor, descending=True)

    async def update_finding_status(
        self, principal: Principal, finding_id: str, data: FindingStatusUpdate
    ) -> CapabilityGapFinding:
        async with self.ctx.db.transaction() as s:
            row = await self._load_finding(s, principal, finding_id)
            await self._check_may_change(s, principal, row)
            before = row.status
            check_transition(before, data.status.value)
            row.status, row.status_note = data.status.value, data.note
            row.status_changed_by, row.updated_at = principal.username, self.ctx.clock.now()
            await self.ctx.events.emit(s, principal, "capability_gap.finding_status_changed", "capability_gap_finding",
                                       row.id, row.project_id, from_status=before, to_status=row.status,
                                       note=data.note, user_id=row.actor_id)
            return finding_model(row)

    @idempotent(FindingTaskCreated)
    async def create_task(self, principal: Principal, finding_id: str, data: FindingTaskCreate) -> FindingTaskCreated:
        """A task in ``data.project_id`` that describes the finding; links it and acknowledges an open finding."""
        try:
            from ..tasks import TaskService
        except ImportError:  # pragma: no cover - only without the tasks slice
            raise Conflict("tasks are not available in this workspace, so a finding cannot become a task") from None
        from ....schemas import TaskCreate

        async with self.ctx.db.read() as s:
            row = await self._load_finding(s, principal, finding_id)
            await self._check_may_change(s, principal, row)
            if row.task_id is not None:
                raise Conflict(f"finding {finding_id} already has task {row.task_id}")
            if row.status not in LIVE_STATES:
                raise Conflict(f"finding {finding_id} is {row.status}; reopen work only on open findings")
            if data.project_id != row.project_id and row.project_id is not None:
                raise Invalid("a project finding's task belongs in the same project")
            title = data.title or f"Capability gap: {row.title}"[:200]
            evidence = "\n".join(f"- {e.get('source')} {e.get('ref_id')}: {e.get('title')} — {e.get('detail')}"
                                 for e in row.evidence[:10])
            description = (f"{row.summary}\n\nSeverity: {row.severity}. Capability: {row.capability}.\n"
                           f"Finding: {row.id}\n\nEvidence:\n{evidence}")[:4000]
        tasks = TaskService(self.ctx)
        task = await tasks.create(principal, TaskCreate(project_id=data.project_id, title=title,
                                                        description=description, assignee_id=data.assignee_id))
        try:
            async with self.ctx.db.transaction() as s:
                row = await self._load_finding(s, principal, finding_id)
                if row.task_id is not None:  # someone else linked a task meanwhile
                    raise Conflict(f"finding {finding_id} already has task {row.task_id}")
                before = row.status
                row.task_id, row.updated_at = task.id, self.ctx.clock.now()
                if row.status == "open":
                    row.status, row.status_changed_by = "acknowledged", principal.username
                    row.status_note = row.status_note or f"task {task.id} created"
                await self.ctx.events.emit(s, principal, "capability_gap.task_created", "capability_gap_finding",
                                           row.id, data.project_id, task_id=task.id, from_status=before,
                                           to_status=row.status, user_id=row.actor_id,
                                           assignee_id=data.assignee_id)
                finding = finding_model(row)
        except BaseException:
            await tasks.delete(principal, task.id)  # undo: a task without its finding is half-written
            raise
        return FindingTaskCreated(finding=finding, task_id=task.id, project_id=data.project_id, title=task.title)


__all__ = ["CapabilityGapService"]
