"""Durable agent jobs: background work that survives a restart."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from .common import Id, Request, Wire
from .text import ONE_LINE

__all__ = ["AgentJob", "AgentJobCreate", "AgentJobEvent", "JobHealth", "JobStatus", "TERMINAL_JOB_STATUSES"]


class JobStatus(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"


TERMINAL_JOB_STATUSES = frozenset({JobStatus.succeeded, JobStatus.failed, JobStatus.cancelled})


class AgentJobCreate(Request):
    """A job of a supported kind (``project_update``, ``task_run``, ``document_ingest``, ...).

    Each kind says which of ``project_id``, ``task_id`` and ``params`` it needs.
    """

    kind: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64), ONE_LINE]
    project_id: Id | None = None
    task_id: Id | None = None
    params: dict[str, Any] = Field(default_factory=dict)


class JobHealth(Wire):
    """Is someone working on it: the runner's last heartbeat and lease."""

    state: str  # waiting | alive | stale | finished
    heartbeat_at: datetime | None = None
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None


class AgentJob(Wire):
    id: str
    kind: str
    status: JobStatus
    project_id: str | None = None
    task_id: str | None = None
    params: dict[str, Any] = {}
    progress: int = 0  # 0..100
    message: str = ""
    result: dict[str, Any] | None = None
    error: str | None = None
    cancel_requested: bool = False
    attempts: int = 0
    created_by: str
    created_by_id: str | None = None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    health: JobHealth


class AgentJobEvent(Wire):
    id: str
    job_id: str
    kind: str  # queued, started, progress, succeeded, failed, cancel_requested, cancelled, requeued
    message: str = ""
    progress: int | None = None
    data: dict[str, Any] = {}
    created_at: datetime
