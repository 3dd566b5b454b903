"""Running a scenario run: each scenario's agent answers through ``agents.runtime.run_agent``
(the one entry point for agent executions), and the answer is scored and logged by the
validation service. Safe to run again from the start (a job re-run after a restart
replaces the earlier partial results)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import delete
from sqlmodel import col

from ....errors import CrewOSError, Invalid, NotFound
from ....principal import Principal
from ....schemas import ValidationRequest
from ...agents.runtime import run_agent
from ...context import ServiceContext
from ...tables import ScenarioResultRow, ScenarioRunRow
from ..validation import score_and_log
from .scenarios import ScenarioSpec, select_scenarios

EXCERPT_CHARS = 400
Progress = Callable[[int, str], Awaitable[None]]


def _ms(delta: float) -> int:
    return max(0, int(delta * 1000))


async def _run_scenario(ctx: ServiceContext, principal: Principal, run: ScenarioRunRow, spec: ScenarioSpec,
                        position: int) -> ScenarioResultRow:
    started = ctx.clock.now()
    result = ScenarioResultRow(id=ctx.ids.new(), run_id=run.id, position=position, scenario_id=spec.id,
                               name=spec.name, agent=spec.agent, outcome="error", created_at=started)
    try:
        if spec.needs_project and not run.project_id:
            raise Invalid("this scenario needs a project: run it with project_id")
        answer = await run_agent(ctx, None, principal, spec.agent, spec.prompt, project_id=run.project_id)
        async with ctx.db.transaction() as s:
            scored = await score_and_log(
                ctx, s, principal, ValidationRequest(output=answer.text, project_id=run.project_id,
                                                label=f"scenario {spec.id} (run {run.id})"),
                spec.rubric, source="testing")
        result.outcome = "passed" if scored.passed else "failed"
        result.score, result.validation_id = scored.score, scored.id
        result.findings = [f.model_dump(mode="json") for f in scored.findings]
        result.answer_excerpt = answer.text[:EXCERPT_CHARS]
    except CrewOSError as exc:
        result.error = exc.detail
    result.duration_ms = _ms((ctx.clock.now() - started).total_seconds())
    return result


async def execute_run(ctx: ServiceContext, principal: Principal, run_id: str,
                      progress: Progress | None = None) -> dict[str, object]:
    """Run every scenario of ``run_id``; returns a summary (the job's result payload)."""
    async with ctx.db.transaction() as s:
        run = await s.get(ScenarioRunRow, run_id)
        if run is None:
            raise NotFound(f"test run {run_id} not found")
        await s.execute(delete(ScenarioResultRow).where(col(ScenarioResultRow.run_id) == run_id))
        run.status, run.started_at, run.finished_at, run.error = "running", ctx.clock.now(), None, ""
        run.passed_count = run.failed_count = run.error_count = 0
        await ctx.events.emit(s, principal, "testing.run_started", "scenario_run", run.id, run.project_id,
                              user_id=run.actor_id, total=run.total)
    specs = select_scenarios(list(run.scenario_ids))
    for position, spec in enumerate(specs):
        if progress is not None:
            await progress(position * 100 // max(len(specs), 1), f"scenario {position + 1}/{len(specs)}: {spec.id}")
        result = await _run_scenario(ctx, principal, run, spec, position)
        async with ctx.db.transaction() as s:
            s.add(result)
            row = await s.get(ScenarioRunRow, run_id)
            assert row is not None
            field = {"passed": "passed_count", "failed": "failed_count"}.get(result.outcome, "error_count")
            setattr(row, field, getattr(row, field) + 1)
    async with ctx.db.transaction() as s:
        row = await s.get(ScenarioRunRow, run_id)
        assert row is not None
        row.status = "passed" if row.passed_count == row.total else "failed"
        row.finished_at = ctx.clock.now()
        await ctx.events.emit(s, principal, "testing.run_finished", "scenario_run", row.id, row.project_id,
                              user_id=row.actor_id, status=row.status, passed=row.passed_count,
                              failed=row.failed_count, errors=row.error_count)
        return run_summary(row)


def run_summary(row: ScenarioRunRow) -> dict[str, object]:
    """A finished run as its job's result."""
    return {"run_id": row.id, "status": row.status, "passed": row.passed_count, "failed": row.failed_count,
            "errors": row.error_count}
