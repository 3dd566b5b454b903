"""Status changes, retry and review decisions: all through ``lifecycle.check_move``."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ....errors import Conflict, Invalid
from ....principal import Principal
from ....schemas.tasks import Task, TaskStatus
from ...context import ServiceContext
from ...tables import AgentJobRow, TaskDependencyRow, TaskRow
from .convert import editable_task, fresh_task
from .core import next_position
from .lifecycle import Move, check_move, open_blockers_message


class TaskStatusChanges:
    ctx: ServiceContext

    async def _open_blockers(self, s: AsyncSession, task_id: str) -> list[str]:
        return list((await s.scalars(
            select(col(TaskRow.title)).join(TaskDependencyRow, col(TaskDependencyRow.blocker_id) == col(TaskRow.id))
            .where(col(TaskDependencyRow.task_id) == task_id, col(TaskRow.status) != "done")
            .order_by(col(TaskRow.id)))).all())

    async def _apply(self, s: AsyncSession, principal: Principal, row: TaskRow, move: Move,
                     event: str = "status_changed", message: str | None = None) -> None:
        """Make a checked move: blockers, column position, timeline, domain event."""
        if move.new == TaskStatus.in_progress:
            titles = await self._open_blockers(s, row.id)
            if titles:
                raise Conflict(open_blockers_message(titles))
        row.status = move.new.value
        row.blocked_from = move.blocked_from.value if move.blocked_from else None
        row.status_reason = move.reason
        row.position = await next_position(s, row.project_id, row.status)
        row.updated_at = self.ctx.clock.now()
        text = message if message is not None else f"{move.old.value} → {move.new.value}" + (
            f": {move.reason}" if move.reason else "")
        await self._log(s, principal, row, event, text, old=move.old.value, new=move.new.value,  # type: ignore[attr-defined]
                        reason=move.reason)

    async def set_status(self, principal: Principal, task_id: str, status: str, reason: str = "") -> Task:
        """Move a task; illegal moves are 409 naming the allowed ones."""
        async with self.ctx.db.transaction() as s:
            row, _ = await editable_task(s, principal, task_id, "changing task status")
            move = check_move(row.status, status, row.blocked_from, reason)
            await self._apply(s, principal, row, move)
            return await fresh_task(s, row.id)

    async def patch_status(self, principal: Principal, task_id: str, status: str, reason: str = "") -> Task:
        """The same move as ``set_status`` (the map has both POST and PATCH .../status)."""
        return await self.set_status(principal, task_id, status, reason)

    async def retry(self, principal: Principal, task_id: str, reason: str = "") -> Task:
        """failed → todo; the task's agent job, if it has one, is queued again."""
        async with self.ctx.db.transaction() as s:
            row, _ = await editable_task(s, principal, task_id, "retrying tasks")
            if row.status != "failed":
                raise Conflict(f"only a failed task can be retried (this one is {row.status})")
            move = check_move(row.status, TaskStatus.todo, row.blocked_from, reason)
            await self._apply(s, principal, row, move, "retried", "retried" + (f": {move.reason}" if move.reason
                                                                                  else ""))
            if row.agent_job_id:
                job = await s.get(AgentJobRow, row.agent_job_id)
                if job is not None:
                    from ..agent_jobs import requeue

                    await requeue(self.ctx, s, principal, job, f"task {row.title!r} was retried")
            return await fresh_task(s, row.id)

    # ---- review decisions (editors) ----------------------------------------------------

    async def _review(self, principal: Principal, task_id: str, target: TaskStatus, event: str, comment: str,
                      verb: str, needs_review: bool = True) -> Task:
        async with self.ctx.db.transaction() as s:
            row, _ = await editable_task(s, principal, task_id, "deciding task reviews")
            if needs_review and row.status != "review":
                raise Conflict(f"only a task in review can be {verb} (this one is {row.status})")
            move = check_move(row.status, target, row.blocked_from, comment)
            await self._apply(s, principal, row, move, event, comment.strip())
            return await fresh_task(s, row.id)

    async def approve(self, principal: Principal, task_id: str, comment: str = "") -> Task:
        """review → done."""
        return await self._review(principal, task_id, TaskStatus.done, "review_approved", comment, "approved")

    async def request_rework(self, principal: Principal, task_id: str, comment: str) -> Task:
        """review → in_progress, with a reason."""
        if not comment.strip():
            raise Invalid("requesting rework needs a comment saying what to change")
        return await self._review(principal, task_id, TaskStatus.in_progress, "review_rework_requested", comment,
                                  "sent back")

    async def block(self, principal: Principal, task_id: str, comment: str) -> Task:
        """todo | in_progress | review → blocked, with a reason; unblocking returns to that state."""
        if not comment.strip():
            raise Invalid("blocking a task needs a comment saying why")
        return await self._review(principal, task_id, TaskStatus.blocked, "review_blocked", comment, "blocked",
                                  needs_review=False)
