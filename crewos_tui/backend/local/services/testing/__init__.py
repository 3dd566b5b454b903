"""Testing: list the configured scenarios, run them, read runs and their results.

A run executes as a durable agent job of kind ``scenario_run`` (``jobs.py``): the
request answers at once with the queued run (``mode="job"``, ``job_id``), the job
runner of the process that owns the database works through the scenarios, and
``GET /testing/runs/{id}`` shows progress and results. Should the job machinery be
missing, the run executes in the request instead (``mode="inline"``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ....errors import Forbidden, Invalid, NotFound
from ....principal import Principal
from ....schemas import (
    Page,
    Scenario,
    ScenarioResult,
    ScenarioRun,
    ScenarioRunCreate,
    ScenarioRunStatus,
)
from ....schemas.agent_jobs import AgentJobCreate
from ....schemas.common import DEFAULT_LIMIT
from ...context import ServiceContext
from ...idempotency import idempotent
from ...pagination import check_limit, decode_cursor, encode_cursor, paginate
from ...tables import AgentJobRow, ProjectMemberRow, ScenarioResultRow, ScenarioRunRow
from .._common import require_user
from ..projects.access import load_project
from .runner import execute_run, run_summary
from .scenarios import SCENARIOS, select_scenarios

try:  # the tasks slice's durable jobs
    from ... import jobs
except ImportError:  # pragma: no cover - only without the tasks slice
    jobs = None  # type: ignore[assignment]

JOB_KIND = "scenario_run"


async def create_run_row(ctx: ServiceContext, s: AsyncSession, principal: Principal, scenario_ids: list[str] | None,
                         project_id: str | None, label: str, mode: str) -> ScenarioRunRow:
    """Check a run request and record the queued run (inside the caller's transaction)."""
    require_user(principal)
    if principal.role == "viewer":
        raise Forbidden("viewers cannot run test scenarios")
    specs = select_scenarios(scenario_ids)
    if project_id is not None:
        await load_project(s, principal, project_id)
    run = ScenarioRunRow(id=ctx.ids.new(), status="queued", mode=mode, label=label, project_id=project_id,
                         scenario_ids=[sp.id for sp in specs], total=len(specs), actor_id=principal.user_id,
                         actor=principal.username, created_at=ctx.clock.now())
    s.add(run)
    await ctx.events.emit(s, principal, "testing.run_queued", "scenario_run", run.id, project_id,
                          user_id=principal.user_id, scenario_ids=run.scenario_ids, mode=mode)
    return run


def _result_model(row: ScenarioResultRow) -> ScenarioResult:
    return ScenarioResult.model_validate(row)


def run_model(row: ScenarioRunRow, results: list[ScenarioResultRow], job: AgentJobRow | None) -> ScenarioRun:
    model = ScenarioRun.model_validate(row)
    model.results = [_result_model(r) for r in results]
    # A job that ended without finishing the run (cancelled, or failed "interrupted")
    # decides what the run's status really is.
    if job is not None and row.status in ("queued", "running") and job.status in ("cancelled", "failed"):
        model.status = ScenarioRunStatus.cancelled if job.status == "cancelled" else ScenarioRunStatus.error
        model.error = job.error or job.status
        model.finished_at = job.finished_at
    return model


class ScenarioTestingService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    async def list_scenarios(
        self, principal: Principal, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[Scenario]:
        require_user(principal)
        check_limit(limit)
        after = decode_cursor(cursor, 1)[0] if cursor else ""
        specs = [s for s in SCENARIOS if s.id > after]
        page = specs[:limit]
        more = encode_cursor([page[-1].id]) if len(specs) > limit else None
        return Page[Scenario](items=[s.model() for s in page], next_cursor=more)

    @idempotent(ScenarioRun)
    async def run(self, principal: Principal, data: ScenarioRunCreate) -> ScenarioRun:
        """Queue a run of the chosen scenarios (all when none are named)."""
        require_user(principal)
        if jobs is not None:
            from ..agent_jobs import AgentJobService

            job = await AgentJobService(self.ctx).create(principal, AgentJobCreate(
                kind=JOB_KIND, project_id=data.project_id,
                params={"scenario_ids": data.scenario_ids or [], "label": data.label}))
            return await self.get_run(principal, job.params["run_id"])
        async with self.ctx.db.transaction() as s:
            run = await create_run_row(self.ctx, s, principal, data.scenario_ids, data.project_id, data.label,
                                       "inline")
        await execute_run(self.ctx, principal, run.id)
        return await self.get_run(principal, run.id)

    def _visible(self, principal: Principal) -> Any:
        if principal.is_admin:
            return None
        mine = select(col(ProjectMemberRow.project_id)).where(col(ProjectMemberRow.user_id) == principal.user_id)
        return or_(col(ScenarioRunRow.actor_id) == principal.user_id, col(ScenarioRunRow.project_id).in_(mine))

    async def list_runs(
        self, principal: Principal, limit: int = DEFAULT_LIMIT, cursor: str | None = None,
        status: str | None = None,
    ) -> Page[ScenarioRun]:
        """Runs the caller started or that belong to their projects, newest first."""
        require_user(principal)
        if status is not None and status not in {s.value for s in ScenarioRunStatus}:
            raise Invalid(f"status must be one of {', '.join(s.value for s in ScenarioRunStatus)}")
        stmt = select(ScenarioRunRow)
        if (clause := self._visible(principal)) is not None:
            stmt = stmt.where(clause)
        if status:
            stmt = stmt.where(col(ScenarioRunRow.status) == status)
        async with self.ctx.db.read() as s:
            page = await paginate(s, stmt, [col(ScenarioRunRow.id)], lambda r: [r.id], lambda r: r,
                                  limit=limit, cursor=cursor, descending=True)
            items = [await self._model(s, row) for row in page.items]
        return Page[ScenarioRun](items=items, next_cursor=page.next_cursor)

    async def get_run(self, principal: Principal, run_id: str) -> ScenarioRun:
        require_user(principal)
        async with self.ctx.db.read() as s:
            stmt = select(ScenarioRunRow).where(col(ScenarioRunRow.id) == run_id)
            if (clause := self._visible(principal)) is not None:
                stmt = stmt.where(clause)
            row = await s.scalar(stmt)
            if row is None:
                raise NotFound(f"test run {run_id} not found")
            return await self._model(s, row)

    async def _model(self, s: AsyncSession, row: ScenarioRunRow) -> ScenarioRun:
        results = (await s.scalars(select(ScenarioResultRow).where(col(ScenarioResultRow.run_id) == row.id)
                                   .order_by(col(ScenarioResultRow.position)))).all()
        job = await s.get(AgentJobRow, row.job_id) if row.job_id else None
        return run_model(row, list(results), job)


# ---- the job kind -----------------------------------------------------------------------

if jobs is not None:

    async def _prepare(ctx: ServiceContext, s: AsyncSession, principal: Principal,
                       data: AgentJobCreate) -> Any:
        assert jobs is not None  # registered below only when the jobs module is there
        ids = data.params.get("scenario_ids") or []
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise Invalid("params.scenario_ids must be a list of scenario ids")
        label = str(data.params.get("label") or "")[:200]
        run = await create_run_row(ctx, s, principal, ids, data.project_id, label, "job")
        return jobs.PreparedJob(data.project_id, None, {"run_id": run.id, "scenario_ids": run.scenario_ids,
                                                        "label": label})

    async def _on_queued(ctx: ServiceContext, s: AsyncSession, principal: Principal, job: AgentJobRow) -> None:
        run = await s.get(ScenarioRunRow, job.params["run_id"])
        assert run is not None
        run.job_id = job.id

    async def _run_job(job: Any) -> dict[str, Any]:
        async with job.ctx.db.read() as s:
            run = await s.get(ScenarioRunRow, job.params["run_id"])
        if run is not None and run.finished_at is not None and run.status in ("passed", "failed"):
            # An earlier attempt finished the run, then stopped before the job was marked done.
            note = f"already done by an earlier attempt (run {run.status})"
            await job.progress(95, note)
            return {**run_summary(run), "already_done": True, "note": note}
        return await execute_run(job.ctx, job.principal, job.params["run_id"], progress=job.progress)

    jobs.register_job_kind(JOB_KIND, _run_job, prepare=_prepare, on_queued=_on_queued,
                           description="Run configured test scenarios against the built-in agents and "
                                       "score each answer.")
