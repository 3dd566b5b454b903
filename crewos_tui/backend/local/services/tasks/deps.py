"""Dependencies: "this task is blocked by that one", without cycles."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ....errors import Conflict, Invalid, NotFound
from ....principal import Principal
from ....schemas import Deleted
from ....schemas.tasks import TaskDependency
from ...context import ServiceContext
from ...idempotency import idempotent
from ...tables import TaskDependencyRow, TaskRow
from .convert import editable_task, load_task

MAX_WALK = 100_000  # dependency edges a cycle check may visit before giving up


class TaskDependencies:
    ctx: ServiceContext

    async def _reaches(self, s: AsyncSession, start: str, target: str) -> bool:
        """Does ``start`` (transitively) wait for ``target``? Breadth-first over "blocked by" edges."""
        seen, frontier, visited = {start}, [start], 0
        while frontier:
            rows = (await s.execute(select(col(TaskDependencyRow.blocker_id))
                                    .where(col(TaskDependencyRow.task_id).in_(frontier[:500])))).scalars().all()
            frontier = frontier[500:]
            visited += len(rows)
            if visited > MAX_WALK:
                raise Conflict("the dependency graph is too large to check for cycles")
            for blocker in rows:
                if blocker == target:
                    return True
                if blocker not in seen:
                    seen.add(blocker)
                    frontier.append(blocker)
        return False

    async def _link(self, s: AsyncSession, principal: Principal, task: TaskRow, blocker_id: str) -> TaskDependencyRow:
        if blocker_id == task.id:
            raise Invalid("a task cannot depend on itself")
        try:
            blocker, _ = await load_task(s, principal, blocker_id)  # 404 when the caller cannot see it
        except NotFound:
            raise NotFound(f"blocking task {blocker_id} not found") from None
        if await s.get(TaskDependencyRow, (task.id, blocker.id)) is not None:
            raise Conflict(f"{task.title!r} already waits for {blocker.title!r}")
        if await self._reaches(s, blocker.id, task.id):
            raise Conflict(f"{blocker.title!r} already (transitively) waits for {task.title!r}; "
                           "the dependency would make a cycle")
        row = TaskDependencyRow(task_id=task.id, blocker_id=blocker.id, created_by=principal.username,
                                created_at=self.ctx.clock.now())
        s.add(row)
        task.updated_at = row.created_at
        await self._log(s, principal, task, "dependency_added", f"blocked by {blocker.title!r}",  # type: ignore[attr-defined]
                        blocks_task_id=blocker.id, blocker_title=blocker.title, blocker_status=blocker.status)
        return row

    @idempotent(TaskDependency)
    async def add_dependency(self, principal: Principal, task_id: str, blocks_task_id: str) -> TaskDependency:
        """Record that ``task_id`` waits for ``blocks_task_id`` (409 on a cycle)."""
        async with self.ctx.db.transaction() as s:
            task, _ = await editable_task(s, principal, task_id, "changing dependencies")
            row = await self._link(s, principal, task, blocks_task_id)
            return TaskDependency(task_id=row.task_id, blocks_task_id=row.blocker_id, created_by=row.created_by,
                                  created_at=row.created_at)

    async def remove_dependency(self, principal: Principal, task_id: str, blocks_task_id: str) -> Deleted:
        async with self.ctx.db.transaction() as s:
            task, _ = await editable_task(s, principal, task_id, "changing dependencies")
            row = await s.get(TaskDependencyRow, (task_id, blocks_task_id))
            if row is None:
                raise NotFound(f"task {task_id} does not wait for {blocks_task_id}")
            blocker = await s.get(TaskRow, blocks_task_id)
            await s.delete(row)
            task.updated_at = self.ctx.clock.now()
            title = blocker.title if blocker is not None else blocks_task_id
            await self._log(s, principal, task, "dependency_removed", f"no longer blocked by {title!r}",  # type: ignore[attr-defined]
                            blocks_task_id=blocks_task_id)
            return Deleted(id=blocks_task_id)
