"""Tasks: create, list (board columns page by page), detail, update, delete."""

from __future__ import annotations

from sqlalchemy import and_, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ....errors import Forbidden, Invalid
from ....principal import Principal
from ....schemas import Deleted, Page
from ....schemas.common import DEFAULT_LIMIT
from ....schemas.tasks import Task, TaskCreate, TaskDetail, TaskReview, TaskUpdate
from ...context import ServiceContext
from ...idempotency import idempotent
from ...pagination import paginate
from ...tables import ProjectMemberRow, TaskAgentRunRow, TaskDependencyRow, TaskEventRow, TaskRow, UserRow
from .._common import require_user
from ..projects.access import load_project
from .convert import (
    editable_task,
    event_model,
    fresh_task,
    load_task,
    ref_model,
    run_model,
    task_from_result,
    task_select,
)
from .lifecycle import PRIORITY_RANK, allowed_from, parse_status
from .timeline import TaskTimeline

REVIEW_KINDS = {"review_approved": "approved", "review_rework_requested": "rework_requested",
                "review_blocked": "blocked"}
DETAIL_ITEMS = 20  # events, runs and dependencies shown in a detail; the rest page


async def next_position(s: AsyncSession, project_id: str, status: str) -> int:
    """A card entering a column goes last."""
    top = await s.scalar(select(func.max(col(TaskRow.position))).where(col(TaskRow.project_id) == project_id,
                                                                  col(TaskRow.status) == status))
    return int(top or 0) + 1


async def check_assignee(s: AsyncSession, project_id: str, user_id: str) -> str:
    """The assignee's username; they must be a member of the task's project."""
    name = await s.scalar(select(col(UserRow.username)).join(ProjectMemberRow, and_(
        col(ProjectMemberRow.user_id) == col(UserRow.id), col(ProjectMemberRow.project_id) == project_id)).where(
        col(UserRow.id) == user_id))
    if name is None:
        raise Invalid(f"assignee {user_id} is not a member of this task's project")
    return name


class TaskCore(TaskTimeline):
    ctx: ServiceContext

    @idempotent(Task)
    async def create(self, principal: Principal, data: TaskCreate) -> Task:
        if principal.user_id is None and not principal.is_admin:
            raise Forbidden("tasks are created by a user")
        now = self.ctx.clock.now()
        async with self.ctx.db.transaction() as s:
            acc = await load_project(s, principal, data.project_id)
            acc.at_least("editor", principal, "creating tasks")
            acc.writable()
            assignee = await check_assignee(s, data.project_id, data.assignee_id) if data.assignee_id else None
            row = TaskRow(
                id=self.ctx.ids.new(), project_id=data.project_id, title=data.title, description=data.description,
                status="todo", priority=data.priority.value, priority_rank=PRIORITY_RANK[data.priority.value],
                position=await next_position(s, data.project_id, "todo"), assignee_id=data.assignee_id,
                created_by_id=principal.user_id, created_by=principal.username, created_at=now, updated_at=now,
            )
            s.add(row)
            await s.flush()
            await self._log(s, principal, row, "created", row.title, priority=row.priority)
            if assignee:
                await self._log(s, principal, row, "assigned", f"assigned to {assignee}", assignee=assignee)
            for blocker_id in dict.fromkeys(data.blocked_by):
                await self._link(s, principal, row, blocker_id)  # type: ignore[attr-defined]
            return await fresh_task(s, row.id)

    async def list(
        self,
        principal: Principal,
        project_id: str | None = None,
        status: str | None = None,
        assignee_id: str | None = None,
        q: str | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[Task]:
        """Tasks the caller can see. With ``status``: one board column, in board order
        (priority, then the order cards entered it); without: newest first."""
        require_user(principal)
        stmt = task_select()
        if status is not None:
            stmt = stmt.where(col(TaskRow.status) == parse_status(status).value)
        if assignee_id:
            stmt = stmt.where(col(TaskRow.assignee_id) == assignee_id)
        if q:
            if len(q) > 200:
                raise Invalid("q is longer than 200 characters")
            escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            stmt = stmt.where(col(TaskRow.title).ilike(f"%{escaped}%", escape="\\"))
        async with self.ctx.db.read() as s:
            if project_id:
                await load_project(s, principal, project_id)
                stmt = stmt.where(col(TaskRow.project_id) == project_id)
            elif not principal.is_admin:
                mine = (select(col(ProjectMemberRow.project_id))
                        .where(col(ProjectMemberRow.user_id) == principal.user_id))
                stmt = stmt.where(col(TaskRow.project_id).in_(mine))
            if status is not None:
                keys = [col(TaskRow.priority_rank), col(TaskRow.position), col(TaskRow.id)]
                return await paginate(s, stmt, keys, lambda r: [r[0].priority_rank, r[0].position, r[0].id],
                                      task_from_result, limit=limit, cursor=cursor)
            return await paginate(s, stmt, [col(TaskRow.id)], lambda r: [r[0].id], task_from_result,
                                  limit=limit, cursor=cursor, descending=True)

    async def get(self, principal: Principal, task_id: str) -> TaskDetail:
        async with self.ctx.db.read() as s:
            row, _ = await load_task(s, principal, task_id)
            task = await fresh_task(s, task_id)
            blockers = (await s.scalars(
                select(TaskRow).join(TaskDependencyRow, col(TaskDependencyRow.blocker_id) == col(TaskRow.id))
                .where(col(TaskDependencyRow.task_id) == task_id).order_by(col(TaskRow.id)).limit(DETAIL_ITEMS))).all()
            waiting = (await s.scalars(
                select(TaskRow).join(TaskDependencyRow, col(TaskDependencyRow.task_id) == col(TaskRow.id))
                .where(col(TaskDependencyRow.blocker_id) == task_id)
                .order_by(col(TaskRow.id)).limit(DETAIL_ITEMS))).all()
            runs = (await s.scalars(select(TaskAgentRunRow).where(col(TaskAgentRunRow.task_id) == task_id)
                                    .order_by(col(TaskAgentRunRow.id).desc()).limit(DETAIL_ITEMS))).all()
            events = (await s.scalars(select(TaskEventRow).where(col(TaskEventRow.task_id) == task_id)
                                      .order_by(col(TaskEventRow.id).desc()).limit(DETAIL_ITEMS))).all()
            last_review = await s.scalar(
                select(TaskEventRow).where(col(TaskEventRow.task_id) == task_id,
                                           col(TaskEventRow.kind).in_(REVIEW_KINDS))
                .order_by(col(TaskEventRow.id).desc()).limit(1))
            review = None
            if last_review is not None:
                review = TaskReview(decision=REVIEW_KINDS[last_review.kind], comment=last_review.message,
                                    decided_by=last_review.actor, decided_at=last_review.created_at)
            return TaskDetail(
                **task.model_dump(), blocked_by=[ref_model(t) for t in blockers],
                blocks=[ref_model(t) for t in waiting], agent_runs=[run_model(r) for r in runs],
                recent_events=[event_model(e) for e in events], review=review,
                allowed_transitions=allowed_from(parse_status(row.status), row.blocked_from),
            )

    async def update(self, principal: Principal, task_id: str, data: TaskUpdate) -> Task:
        fields = data.model_fields_set
        if not fields:
            raise Invalid("nothing to update: give title, description, priority and/or assignee_id")
        for name in ("title", "description", "priority"):
            if name in fields and getattr(data, name) is None:
                raise Invalid(f"{name} cannot be null")
        async with self.ctx.db.transaction() as s:
            row, _ = await editable_task(s, principal, task_id, "editing tasks")
            changed: list[str] = []
            if data.title is not None and data.title != row.title:
                row.title = data.title
                changed.append("title")
            if data.description is not None and data.description != row.description:
                row.description = data.description
                changed.append("description")
            if data.priority is not None and data.priority.value != row.priority:
                row.priority, row.priority_rank = data.priority.value, PRIORITY_RANK[data.priority.value]
                changed.append("priority")
            if "assignee_id" in fields and data.assignee_id != row.assignee_id:
                name = await check_assignee(s, row.project_id, data.assignee_id) if data.assignee_id else None
                previous = row.assignee_id
                row.assignee_id = data.assignee_id
                row.updated_at = self.ctx.clock.now()
                await self._log(s, principal, row, "assigned", f"assigned to {name}" if name else "unassigned",
                                assignee=name, previous_assignee_id=previous)
            if changed:
                row.updated_at = self.ctx.clock.now()
                await self._log(s, principal, row, "updated", "changed " + ", ".join(changed), changed=changed,
                                priority=row.priority)
            return await fresh_task(s, row.id)

    async def delete(self, principal: Principal, task_id: str) -> Deleted:
        async with self.ctx.db.transaction() as s:
            row, acc = await load_task(s, principal, task_id)
            if not (principal.is_admin or (principal.user_id and principal.user_id == row.created_by_id)):
                raise Forbidden("only the task's creator or an admin may delete it")
            acc.writable()
            await self.ctx.events.emit(s, principal, "task.deleted", "task", row.id, row.project_id,
                                       title=row.title, assignee_id=row.assignee_id,
                                       created_by_id=row.created_by_id)
            # Dependencies, events and runs cascade; jobs keep their history (task_id → NULL).
            await s.execute(delete(TaskRow).where(col(TaskRow.id) == task_id))
            return Deleted(id=task_id)
