"""What the Backend offers for tasks and task reviews."""

from __future__ import annotations

from typing import Protocol

from ..schemas import Deleted, Page
from ..schemas.common import DEFAULT_LIMIT
from ..schemas.tasks import (
    AgentRun,
    AgentRunCreate,
    AgentRunUpdate,
    Task,
    TaskCreate,
    TaskDependency,
    TaskDetail,
    TaskEvent,
    TaskEventCreate,
    TaskUpdate,
)


class TasksAPI(Protocol):
    async def create(self, data: TaskCreate) -> Task:
        """Create a task in a project (editor); it starts in ``todo``."""
        ...

    async def list(
        self,
        project_id: str | None = None,
        status: str | None = None,
        assignee_id: str | None = None,
        q: str | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[Task]:
        """Tasks the caller can see. With ``status``: one board column in board order
        (priority, then arrival); without: newest first. ``q`` matches titles."""
        ...

    async def get(self, task_id: str) -> TaskDetail:
        """A task with its dependencies, recent events, agent runs and last review."""
        ...

    async def update(self, task_id: str, data: TaskUpdate) -> Task:
        """Change title, description, priority or assignee (editor)."""
        ...

    async def delete(self, task_id: str) -> Deleted:
        """Delete a task (its creator or an admin)."""
        ...

    async def set_status(self, task_id: str, status: str, reason: str = "") -> Task:
        """Move a task through the state machine; an illegal move is 409 naming the allowed ones."""
        ...

    async def patch_status(self, task_id: str, status: str, reason: str = "") -> Task:
        """``set_status`` through ``PATCH .../status``."""
        ...

    async def retry(self, task_id: str, reason: str = "") -> Task:
        """failed → todo; the task's agent job, if any, is queued again."""
        ...

    async def list_events(self, task_id: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None
                          ) -> Page[TaskEvent]:
        """The task's timeline, oldest first."""
        ...

    async def add_event(self, task_id: str, data: TaskEventCreate) -> TaskEvent:
        """Append a comment, note or progress entry to the timeline (editor)."""
        ...

    async def add_dependency(self, task_id: str, blocks_task_id: str) -> TaskDependency:
        """``task_id`` waits for ``blocks_task_id``; a cycle is 409."""
        ...

    async def remove_dependency(self, task_id: str, blocks_task_id: str) -> Deleted:
        """Remove that dependency."""
        ...

    async def create_agent_run(self, task_id: str, data: AgentRunCreate) -> AgentRun:
        """Record (or, with an ``external_ref`` seen before, attach) an agent run on a task."""
        ...

    async def update_agent_run(self, run_id: str, data: AgentRunUpdate) -> AgentRun:
        """Update a run's status, summary, output or token usage."""
        ...

    async def approve(self, task_id: str, comment: str = "") -> Task:
        """Review decision: review → done (editor)."""
        ...

    async def request_rework(self, task_id: str, comment: str) -> Task:
        """Review decision: review → in_progress, saying what to change (editor)."""
        ...

    async def block(self, task_id: str, comment: str) -> Task:
        """Block the task, saying why; unblocking returns it to the state it left (editor)."""
        ...
