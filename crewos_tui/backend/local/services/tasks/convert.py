"""Loading tasks as the caller may see them, and rows → wire models."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from ....errors import NotFound
from ....principal import Principal
from ....schemas.tasks import AgentRun, AgentRunStatus, Task, TaskEvent, TaskPriority, TaskRef, TaskStatus
from ...tables import TaskAgentRunRow, TaskDependencyRow, TaskEventRow, TaskRow, UserRow, table_of
from .._common import require_user
from ..projects.access import ProjectAccess, load_project

_T = table_of(TaskRow).c
_D = table_of(TaskDependencyRow)


async def load_task(s: AsyncSession, principal: Principal, task_id: str) -> tuple[TaskRow, ProjectAccess]:
    """The task and the caller's access to its project; 404 when either is invisible."""
    require_user(principal)
    row = await s.get(TaskRow, task_id)
    if row is None:
        raise NotFound(f"task {task_id} not found")
    try:
        acc = await load_project(s, principal, row.project_id)
    except NotFound:
        raise NotFound(f"task {task_id} not found") from None
    return row, acc


async def editable_task(s: AsyncSession, principal: Principal, task_id: str, action: str) -> tuple[TaskRow,
                                                                                                  ProjectAccess]:
    row, acc = await load_task(s, principal, task_id)
    acc.at_least("editor", principal, action)
    acc.writable()
    return row, acc


def count_columns() -> tuple[Any, Any]:
    """Correlated counts shown on every card: open blockers, and open tasks waiting for it."""
    blocker, waiter = aliased(table_of(TaskRow)), aliased(table_of(TaskRow))
    blocked_by = (select(func.count()).select_from(_D.join(blocker, blocker.c.id == _D.c.blocker_id))
                  .where(_D.c.task_id == _T.id, blocker.c.status != "done")
                  .correlate(table_of(TaskRow)).scalar_subquery().label("blocked_by_count"))
    blocks = (select(func.count()).select_from(_D.join(waiter, waiter.c.id == _D.c.task_id))
              .where(_D.c.blocker_id == _T.id, waiter.c.status.not_in(("done", "cancelled")))
              .correlate(table_of(TaskRow)).scalar_subquery().label("blocks_count"))
    return blocked_by, blocks


def task_select() -> Any:
    """``(TaskRow, assignee username, blocked_by_count, blocks_count)`` rows."""
    assignee = aliased(UserRow)
    return (select(TaskRow, col(assignee.username), *count_columns())
            .outerjoin(assignee, and_(col(assignee.id) == col(TaskRow.assignee_id))))


def task_model(row: TaskRow, assignee: str | None = None, blocked_by: int = 0, blocks: int = 0) -> Task:
    return Task(
        id=row.id, project_id=row.project_id, title=row.title, description=row.description,
        status=TaskStatus(row.status),
        priority=TaskPriority(row.priority), assignee_id=row.assignee_id, assignee=assignee, created_by=row.created_by,
        created_by_id=row.created_by_id, created_at=row.created_at, updated_at=row.updated_at,
        blocked_from=TaskStatus(row.blocked_from) if row.blocked_from is not None else None,
        status_reason=row.status_reason, blocked_by_count=blocked_by,
        blocks_count=0 if row.status == "done" else blocks, agent_job_id=row.agent_job_id,
    )


def task_from_result(r: Any) -> Task:
    return task_model(r[0], r[1], int(r[2] or 0), int(r[3] or 0))


async def fresh_task(s: AsyncSession, task_id: str) -> Task:
    """The task as lists show it, after the caller's changes are flushed."""
    await s.flush()
    return task_from_result((await s.execute(task_select().where(col(TaskRow.id) == task_id))).one())


def ref_model(row: TaskRow) -> TaskRef:
    return TaskRef(id=row.id, project_id=row.project_id, title=row.title, status=TaskStatus(row.status))


def event_model(row: TaskEventRow) -> TaskEvent:
    return TaskEvent(id=row.id, task_id=row.task_id, kind=row.kind, actor=row.actor, actor_id=row.actor_id,
                     message=row.message, data=dict(row.data or {}), created_at=row.created_at)


def run_model(row: TaskAgentRunRow) -> AgentRun:
    return AgentRun(
        id=row.id, task_id=row.task_id, project_id=row.project_id, agent=row.agent, status=AgentRunStatus(row.status),
        summary=row.summary, output=row.output, input_tokens=row.input_tokens, output_tokens=row.output_tokens,
        total_tokens=row.input_tokens + row.output_tokens, job_id=row.job_id, external_ref=row.external_ref,
        created_by=row.created_by, started_at=row.started_at, finished_at=row.finished_at,
    )
