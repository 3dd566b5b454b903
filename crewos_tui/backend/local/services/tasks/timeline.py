"""The task timeline: every change appends a task event and emits a domain event."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ....principal import Principal
from ....schemas import Page
from ....schemas.common import DEFAULT_LIMIT
from ....schemas.tasks import TaskEvent, TaskEventCreate
from ...context import ServiceContext
from ...idempotency import idempotent
from ...pagination import paginate
from ...tables import TaskEventRow, TaskRow
from .convert import editable_task, event_model, load_task


class TaskTimeline:
    ctx: ServiceContext

    async def _log(
        self, s: AsyncSession, principal: Principal, task: TaskRow, kind: str, message: str = "", **data: Any
    ) -> TaskEventRow:
        """Append ``kind`` to the task's timeline and emit ``task.<kind>``.

        The domain event names the people a notification would address (the
        assignee and the creator) and the project, so other slices can react.
        """
        row = TaskEventRow(id=self.ctx.ids.new(), task_id=task.id, kind=kind, actor_id=principal.user_id,
                           actor=principal.username, message=message, data=data, created_at=self.ctx.clock.now())
        s.add(row)
        await self.ctx.events.emit(
            s, principal, f"task.{kind}", "task", task.id, task.project_id, title=task.title, status=task.status,
            assignee_id=task.assignee_id, created_by_id=task.created_by_id, message=message, **data,
        )
        return row

    async def list_events(
        self, principal: Principal, task_id: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[TaskEvent]:
        async with self.ctx.db.read() as s:
            await load_task(s, principal, task_id)
            stmt = select(TaskEventRow).where(col(TaskEventRow.task_id) == task_id)
            return await paginate(s, stmt, [col(TaskEventRow.id)], lambda r: [r.id], event_model,
                                  limit=limit, cursor=cursor)

    @idempotent(TaskEvent)
    async def add_event(self, principal: Principal, task_id: str, data: TaskEventCreate) -> TaskEvent:
        async with self.ctx.db.transaction() as s:
            task, _ = await editable_task(s, principal, task_id, "commenting on tasks")
            task.updated_at = self.ctx.clock.now()
            row = await self._log(s, principal, task, data.kind.value, data.message)
            return event_model(row)
