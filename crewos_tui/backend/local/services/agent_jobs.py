"""Durable agent jobs: create, list, inspect and cancel. ``local/jobs.py`` runs them.

Who sees a job: its creator, admins, and members of its project. Who cancels it:
its creator, admins, and the project's editors. Kinds are a registry
(``jobs.register_job_kind``); each kind checks its own input when a job is created.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ...errors import Conflict, Forbidden, Invalid, NotFound
from ...principal import Principal
from ...schemas import Page
from ...schemas.agent_jobs import AgentJob, AgentJobCreate, AgentJobEvent, JobHealth, JobStatus
from ...schemas.common import DEFAULT_LIMIT
from ..context import ServiceContext
from ..idempotency import idempotent
from ..pagination import paginate
from ..tables import AgentJobEventRow, AgentJobRow, ProjectMemberRow
from ._common import require_user
from .projects.access import RANK, member_role

TERMINAL = frozenset({"succeeded", "failed", "cancelled"})


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def job_model(row: AgentJobRow, now: datetime) -> AgentJob:
    if row.status in TERMINAL:
        state = "finished"
    elif row.status == "queued":
        state = "waiting"
    else:
        expires = _aware(row.lease_expires_at)
        state = "alive" if expires is not None and expires >= now else "stale"
    return AgentJob(
        id=row.id, kind=row.kind, status=JobStatus(row.status), project_id=row.project_id, task_id=row.task_id,
        params=dict(row.params or {}), progress=row.progress, message=row.message, result=row.result,
        error=row.error, cancel_requested=row.cancel_requested, attempts=row.attempts, created_by=row.created_by,
        created_by_id=row.created_by_id, created_at=row.created_at, updated_at=row.updated_at,
        started_at=row.started_at, finished_at=row.finished_at,
        health=JobHealth(state=state, heartbeat_at=row.heartbeat_at, lease_owner=row.lease_owner,
                         lease_expires_at=row.lease_expires_at),
    )


def event_model(row: AgentJobEventRow) -> AgentJobEvent:
    return AgentJobEvent(id=row.id, job_id=row.job_id, kind=row.kind, message=row.message, progress=row.progress,
                         data=dict(row.data or {}), created_at=row.created_at)


async def job_event(ctx: ServiceContext, s: AsyncSession, principal: Principal, job: AgentJobRow, kind: str,
                    message: str = "", progress: int | None = None, **data: object) -> None:
    """Append to the job's own event list and emit ``agent_job.<kind>`` (one transaction)."""
    s.add(AgentJobEventRow(id=ctx.ids.new(), job_id=job.id, kind=kind, message=message, progress=progress,
                           data=dict(data), created_at=ctx.clock.now()))
    await ctx.events.emit(s, principal, f"agent_job.{kind}", "agent_job", job.id, job.project_id,
                          job_kind=job.kind, job_status=job.status, task_id=job.task_id, user_id=job.created_by_id,
                          message=message, progress=progress, **data)


async def requeue(ctx: ServiceContext, s: AsyncSession, principal: Principal, job: AgentJobRow, reason: str) -> None:
    """Queue a finished job again (task retry). A queued or running job is left alone."""
    if job.status not in TERMINAL:
        return
    now = ctx.clock.now()
    job.status, job.progress, job.message, job.result, job.error = "queued", 0, "queued again", None, None
    job.cancel_requested, job.attempts, job.lease_owner, job.lease_expires_at = False, 0, None, None
    job.started_at, job.finished_at, job.updated_at = None, None, now
    await job_event(ctx, s, principal, job, "requeued", reason)


class AgentJobService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    # ---- access ----------------------------------------------------------------------

    async def _role(self, s: AsyncSession, principal: Principal, job: AgentJobRow) -> str | None:
        return await member_role(s, job.project_id, principal.user_id) if job.project_id else None

    async def _load(self, s: AsyncSession, principal: Principal, job_id: str) -> AgentJobRow:
        require_user(principal)
        job = await s.get(AgentJobRow, job_id)
        if job is None:
            raise NotFound(f"job {job_id} not found")
        if principal.is_admin or (principal.user_id and job.created_by_id == principal.user_id):
            return job
        if await self._role(s, principal, job) is None:
            raise NotFound(f"job {job_id} not found")
        return job

    # ---- the endpoints ---------------------------------------------------------------

    @idempotent(AgentJob)
    async def create(self, principal: Principal, data: AgentJobCreate) -> AgentJob:
        """Queue a job; unknown kinds are 422 listing the supported ones."""
        from ..jobs import job_kind

        require_user(principal)
        kind = job_kind(data.kind)
        now = self.ctx.clock.now()
        async with self.ctx.db.transaction() as s:
            prepared = await kind.prepare(self.ctx, s, principal, data)
            row = AgentJobRow(
                id=self.ctx.ids.new(), kind=kind.name, status="queued", project_id=prepared.project_id,
                task_id=prepared.task_id, params=prepared.params, message="queued", created_by_id=principal.user_id,
                created_by=principal.username, created_at=now, updated_at=now,
            )
            s.add(row)
            await s.flush()
            await job_event(self.ctx, s, principal, row, "created", f"{kind.name} queued")
            if kind.on_queued is not None:
                await kind.on_queued(self.ctx, s, principal, row)
            return job_model(row, now)

    async def list(
        self,
        principal: Principal,
        project_id: str | None = None,
        status: str | None = None,
        kind: str | None = None,
        task_id: str | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[AgentJob]:
        """Jobs the caller can see, newest first."""
        require_user(principal)
        stmt = select(AgentJobRow)
        if status is not None:
            try:
                stmt = stmt.where(col(AgentJobRow.status) == JobStatus(status).value)
            except ValueError:
                raise Invalid(f"unknown job status {status!r}; one of: {', '.join(JobStatus)}") from None
        if kind:
            stmt = stmt.where(col(AgentJobRow.kind) == kind)
        if task_id:
            stmt = stmt.where(col(AgentJobRow.task_id) == task_id)
        if project_id:
            stmt = stmt.where(col(AgentJobRow.project_id) == project_id)
        if not principal.is_admin:
            mine = select(col(ProjectMemberRow.project_id)).where(col(ProjectMemberRow.user_id) == principal.user_id)
            stmt = stmt.where(or_(col(AgentJobRow.created_by_id) == principal.user_id,
                                  col(AgentJobRow.project_id).in_(mine)))
        now = self.ctx.clock.now()
        async with self.ctx.db.read() as s:
            return await paginate(s, stmt, [col(AgentJobRow.id)], lambda r: [r.id], lambda r: job_model(r, now),
                                  limit=limit, cursor=cursor, descending=True)

    async def get(self, principal: Principal, job_id: str) -> AgentJob:
        async with self.ctx.db.read() as s:
            return job_model(await self._load(s, principal, job_id), self.ctx.clock.now())

    async def list_events(
        self, principal: Principal, job_id: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[AgentJobEvent]:
        async with self.ctx.db.read() as s:
            await self._load(s, principal, job_id)
            stmt = select(AgentJobEventRow).where(col(AgentJobEventRow.job_id) == job_id)
            return await paginate(s, stmt, [col(AgentJobEventRow.id)], lambda r: [r.id], event_model,
                                  limit=limit, cursor=cursor)

    async def cancel(self, principal: Principal, job_id: str) -> AgentJob:
        """A queued job is cancelled at once; a running one is asked to stop (its runner
        stops it within a heartbeat, at once when it runs in this process)."""
        async with self.ctx.db.transaction() as s:
            job = await self._load(s, principal, job_id)
            privileged = principal.is_admin or (principal.user_id and job.created_by_id == principal.user_id)
            if not privileged and RANK.get(await self._role(s, principal, job) or "", 0) < RANK["editor"]:
                raise Forbidden("cancelling a job needs the project editor role, or to be its creator")
            if job.status in TERMINAL:
                raise Conflict(f"the job already {job.status}")
            now = self.ctx.clock.now()
            expires = _aware(job.lease_expires_at)
            if job.status == "queued" or expires is None or expires < now:
                # Nobody is working on it: cancel now.
                job.status, job.finished_at, job.message, job.updated_at = "cancelled", now, "cancelled", now
                job.cancel_requested, job.lease_owner, job.lease_expires_at = True, None, None
                await job_event(self.ctx, s, principal, job, "cancelled", f"cancelled by {principal.username}")
            elif not job.cancel_requested:
                job.cancel_requested, job.message, job.updated_at = True, "cancelling", now
                await job_event(self.ctx, s, principal, job, "cancel_requested",
                                f"{principal.username} asked to cancel")
            return job_model(job, now)
