"""Tables of the tasks slice: tasks, their dependencies, timeline and agent runs,
and durable agent jobs with their events.

Board columns page by ``(project_id, status, priority_rank, position, id)``, so the
index below serves "the next 50 cards of this column" without touching the rest
of a 10,000-task project.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, Column, ForeignKey, Index, String
from sqlmodel import Field, SQLModel

from . import fk_column, json_column, table_of, utc_column

__all__ = ["AgentJobEventRow", "AgentJobRow", "TaskAgentRunRow", "TaskDependencyRow", "TaskEventRow", "TaskRow"]


class TaskRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "tasks"
    id: str = Field(primary_key=True)
    project_id: str = fk_column("projects.id", index=False)  # covered by the board index
    title: str
    description: str = ""
    status: str = "todo"
    priority: str = "medium"
    priority_rank: int = 2  # urgent 0 .. low 3: the board shows urgent first
    position: int = 0  # order inside a column: a card entering a column goes last
    assignee_id: str | None = fk_column("users.id", ondelete="SET NULL", nullable=True)
    created_by_id: str | None = fk_column("users.id", ondelete="SET NULL", nullable=True, index=False)
    created_by: str = ""
    blocked_from: str | None = None  # while blocked: the state it left
    status_reason: str = ""
    agent_job_id: str | None = None  # the latest task_run job
    created_at: datetime = utc_column()
    updated_at: datetime = utc_column()


Index("ix_tasks_board", table_of(TaskRow).c.project_id, table_of(TaskRow).c.status,
      table_of(TaskRow).c.priority_rank, table_of(TaskRow).c.position, table_of(TaskRow).c.id)


class TaskDependencyRow(SQLModel, table=True):
    """``task_id`` waits for ``blocker_id`` (the map calls it ``blocks_task_id``)."""

    __tablename__: ClassVar[str] = "task_dependencies"
    task_id: str = Field(sa_column=Column(String, ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True))
    blocker_id: str = Field(sa_column=Column(String, ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True))
    created_by: str = ""
    created_at: datetime = utc_column()


Index("ix_task_dependencies_blocker", table_of(TaskDependencyRow).c.blocker_id)


class TaskEventRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "task_events"
    id: str = Field(primary_key=True)
    task_id: str = fk_column("tasks.id", index=False)
    kind: str
    actor_id: str | None = None
    actor: str = ""
    message: str = ""
    data: dict[str, Any] = json_column(dict)
    created_at: datetime = utc_column()


Index("ix_task_events_task", table_of(TaskEventRow).c.task_id, table_of(TaskEventRow).c.id)


class TaskAgentRunRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "task_agent_runs"
    id: str = Field(primary_key=True)
    task_id: str = fk_column("tasks.id")
    project_id: str = fk_column("projects.id", index=False)
    agent: str
    status: str = "running"
    summary: str = ""
    output: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    job_id: str | None = None
    external_ref: str | None = None
    created_by: str = ""
    started_at: datetime = utc_column()
    finished_at: datetime | None = utc_column(nullable=True)


class AgentJobRow(SQLModel, table=True):
    """A durable job. A runner owns it while ``lease_owner`` holds an unexpired lease."""

    __tablename__: ClassVar[str] = "agent_jobs"
    id: str = Field(primary_key=True)
    kind: str
    status: str = "queued"
    project_id: str | None = fk_column("projects.id", nullable=True)
    task_id: str | None = fk_column("tasks.id", ondelete="SET NULL", nullable=True)
    params: dict[str, Any] = json_column(dict)
    progress: int = 0
    message: str = ""
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    error: str | None = None
    cancel_requested: bool = False
    attempts: int = 0
    created_by_id: str | None = fk_column("users.id", ondelete="SET NULL", nullable=True)
    created_by: str = ""
    created_at: datetime = utc_column()
    updated_at: datetime = utc_column()
    started_at: datetime | None = utc_column(nullable=True)
    finished_at: datetime | None = utc_column(nullable=True)
    heartbeat_at: datetime | None = utc_column(nullable=True)
    lease_owner: str | None = None
    lease_expires_at: datetime | None = utc_column(nullable=True)


# The claim query: "the oldest queued job, or a running one whose lease ran out".
Index("ix_agent_jobs_claim", table_of(AgentJobRow).c.status, table_of(AgentJobRow).c.id)


class AgentJobEventRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "agent_job_events"
    id: str = Field(primary_key=True)
    job_id: str = fk_column("agent_jobs.id", index=False)
    kind: str
    message: str = ""
    progress: int | None = None
    data: dict[str, Any] = json_column(dict)
    created_at: datetime = utc_column()


Index("ix_agent_job_events_job", table_of(AgentJobEventRow).c.job_id, table_of(AgentJobEventRow).c.id)
