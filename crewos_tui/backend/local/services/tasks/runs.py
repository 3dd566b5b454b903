"""Agent runs: records of an agent working on a task, with token usage."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col

from ....errors import Conflict, Invalid, NotFound
from ....principal import Principal
from ....schemas.tasks import AgentRun, AgentRunCreate, AgentRunUpdate
from ...context import ServiceContext
from ...idempotency import idempotent
from ...tables import TaskAgentRunRow
from .convert import editable_task, run_model

FINAL_RUN_STATES = frozenset({"succeeded", "failed", "cancelled"})


class TaskAgentRuns:
    ctx: ServiceContext

    @idempotent(AgentRun)
    async def create_agent_run(self, principal: Principal, task_id: str, data: AgentRunCreate) -> AgentRun:
        """Record a run; with an ``external_ref`` already recorded on this task, return that run."""
        async with self.ctx.db.transaction() as s:
            task, _ = await editable_task(s, principal, task_id, "recording agent runs")
            if data.external_ref:
                existing = await s.scalar(select(TaskAgentRunRow).where(
                    col(TaskAgentRunRow.task_id) == task_id, col(TaskAgentRunRow.external_ref) == data.external_ref))
                if existing is not None:
                    return run_model(existing)
            now = self.ctx.clock.now()
            row = TaskAgentRunRow(
                id=self.ctx.ids.new(), task_id=task.id, project_id=task.project_id, agent=data.agent,
                status=data.status.value, summary=data.summary, output=data.output, input_tokens=data.input_tokens,
                output_tokens=data.output_tokens, job_id=data.job_id, external_ref=data.external_ref,
                created_by=principal.username, started_at=now,
                finished_at=now if data.status.value in FINAL_RUN_STATES else None,
            )
            s.add(row)
            task.updated_at = now
            await self._log(s, principal, task, "agent_run_recorded", f"{row.agent}: {row.status}",  # type: ignore[attr-defined]
                            run_id=row.id, agent=row.agent, run_status=row.status, input_tokens=row.input_tokens,
                            output_tokens=row.output_tokens, job_id=row.job_id)
            return run_model(row)

    async def update_agent_run(self, principal: Principal, run_id: str, data: AgentRunUpdate) -> AgentRun:
        async with self.ctx.db.transaction() as s:
            row = await s.get(TaskAgentRunRow, run_id)
            if row is None:
                raise NotFound(f"agent run {run_id} not found")
            try:
                task, _ = await editable_task(s, principal, row.task_id, "updating agent runs")
            except NotFound:
                raise NotFound(f"agent run {run_id} not found") from None
            changed = {k: v for k, v in data.model_dump(exclude_unset=True).items() if v is not None}
            if not changed:
                raise Invalid("nothing to update: give status, summary, output and/or token counts")
            new_status = changed.get("status")
            if new_status is not None:
                new_status = str(getattr(new_status, "value", new_status))
                if row.status in FINAL_RUN_STATES and new_status != row.status:
                    raise Conflict(f"the run already {row.status}; it cannot become {new_status}")
                if new_status in FINAL_RUN_STATES and row.finished_at is None:
                    row.finished_at = self.ctx.clock.now()
                row.status = new_status
            for name in ("summary", "output", "input_tokens", "output_tokens"):
                if name in changed:
                    setattr(row, name, changed[name])
            task.updated_at = self.ctx.clock.now()
            await self._log(s, principal, task, "agent_run_updated", f"{row.agent}: {row.status}",  # type: ignore[attr-defined]
                            run_id=row.id, agent=row.agent, run_status=row.status, input_tokens=row.input_tokens,
                            output_tokens=row.output_tokens, changed=sorted(changed))
            return run_model(row)
