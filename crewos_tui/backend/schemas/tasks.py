"""Tasks and task reviews: tasks, their timeline, dependencies and agent runs."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from .common import Id, Request, Text, Wire
from .text import MULTI_LINE, ONE_LINE

__all__ = [
    "AgentRun", "AgentRunCreate", "AgentRunStatus", "AgentRunUpdate", "DependencyCreate", "ReviewDecision", "Task",
    "TaskCreate", "TaskDependency", "TaskDetail", "TaskEvent", "TaskEventCreate", "TaskEventKind", "TaskPriority",
    "TaskRef", "TaskRetry", "TaskReview", "TaskStatus", "TaskStatusChange", "TaskUpdate",
]

#: A task title: one line without control characters, trimmed, 1..200 characters.
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), ONE_LINE]
#: A reason or comment that must say something.
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000), MULTI_LINE]
Tokens = Annotated[int, Field(ge=0, le=10**12)]
#: An agent run's summary: written by agents (the task worker takes an answer's first line),
#: so it is kept as written rather than refused, unlike the texts people type (``Text``).
RunSummary = Annotated[str, StringConstraints(max_length=4000)]


class TaskStatus(StrEnum):
    todo = "todo"
    in_progress = "in_progress"
    review = "review"
    blocked = "blocked"
    done = "done"
    failed = "failed"
    cancelled = "cancelled"


class TaskPriority(StrEnum):
    urgent = "urgent"
    high = "high"
    medium = "medium"
    low = "low"


class TaskCreate(Request):
    project_id: Id
    title: Title
    description: Text = ""
    priority: TaskPriority = TaskPriority.medium
    assignee_id: Id | None = None
    #: Tasks this one waits for (same rules as POST .../dependencies).
    blocked_by: list[Id] = Field(default_factory=list, max_length=50)


class TaskUpdate(Request):
    """Only the fields sent change; ``assignee_id: null`` unassigns."""

    title: Title | None = None
    description: Text | None = None
    priority: TaskPriority | None = None
    assignee_id: Id | None = None


class TaskStatusChange(Request):
    status: str = Field(description="One of: " + ", ".join(s.value for s in TaskStatus))
    reason: Text = ""


class TaskRetry(Request):
    reason: Text = ""


class ReviewDecision(Request):
    """Approve: the comment is optional. Request-rework and block: say why."""

    comment: Text = ""


class TaskRef(Wire):
    """Another task, as a dependency list shows it."""

    id: str
    project_id: str
    title: str
    status: TaskStatus


class TaskReview(Wire):
    """The latest review decision on a task."""

    decision: str  # approved | rework_requested | blocked
    comment: str = ""
    decided_by: str
    decided_at: datetime


class Task(Wire):
    id: str
    project_id: str
    title: str
    description: str = ""
    status: TaskStatus
    priority: TaskPriority = TaskPriority.medium
    assignee_id: str | None = None
    assignee: str | None = None  # username
    created_by: str
    created_by_id: str | None = None
    created_at: datetime
    updated_at: datetime
    #: While blocked: the state it left (where unblocking returns to) and why.
    blocked_from: TaskStatus | None = None
    status_reason: str = ""
    #: Open blockers (not done) and tasks waiting for this one.
    blocked_by_count: int = 0
    blocks_count: int = 0
    agent_job_id: str | None = None


class AgentRunStatus(StrEnum):
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"


class AgentRunCreate(Request):
    agent: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80), ONE_LINE]
    status: AgentRunStatus = AgentRunStatus.running
    summary: RunSummary = ""
    output: Annotated[str, StringConstraints(max_length=100_000)] = ""
    input_tokens: Tokens = 0
    output_tokens: Tokens = 0
    job_id: Id | None = None
    #: Attach: a run already recorded elsewhere (a chat message, a remote agent's run
    #: id). Posting the same reference twice returns the first record.
    external_ref: Annotated[str, StringConstraints(max_length=200), ONE_LINE] | None = None


class AgentRunUpdate(Request):
    status: AgentRunStatus | None = None
    summary: RunSummary | None = None
    output: Annotated[str, StringConstraints(max_length=100_000)] | None = None
    input_tokens: Tokens | None = None
    output_tokens: Tokens | None = None


class AgentRun(Wire):
    id: str
    task_id: str
    project_id: str
    agent: str
    status: AgentRunStatus
    summary: str = ""
    output: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    job_id: str | None = None
    external_ref: str | None = None
    created_by: str
    started_at: datetime
    finished_at: datetime | None = None


class TaskDetail(Task):
    """A task with what its detail view shows."""

    blocked_by: list[TaskRef] = []
    blocks: list[TaskRef] = []
    agent_runs: list[AgentRun] = []
    review: TaskReview | None = None
    #: The newest events (``GET .../events`` pages the whole timeline).
    recent_events: list[TaskEvent] = []
    #: Where the state machine lets the task go from here.
    allowed_transitions: list[TaskStatus] = []


class TaskEventKind(StrEnum):
    """What a client may append; the service records the rest itself."""

    comment = "comment"
    note = "note"
    progress = "progress"


class TaskEventCreate(Request):
    kind: TaskEventKind = TaskEventKind.comment
    message: Reason


class TaskEvent(Wire):
    id: str
    task_id: str
    kind: str  # created, status_changed, assigned, comment, review_approved, ...
    actor: str
    actor_id: str | None = None
    message: str = ""
    data: dict[str, Any] = {}
    created_at: datetime


class DependencyCreate(Request):
    #: The task that must be done before this one can start.
    blocks_task_id: Id


class TaskDependency(Wire):
    task_id: str  # the waiting task
    blocks_task_id: str  # the task it waits for
    created_by: str
    created_at: datetime


TaskDetail.model_rebuild()
