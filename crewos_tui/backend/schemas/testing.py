"""Testing: configured scenarios run against the built-in agents, with results."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from .common import Id, Request, Wire
from .text import ONE_LINE
from .validation import ValidationFinding

__all__ = [
    "Scenario",
    "ScenarioOutcome",
    "ScenarioResult",
    "ScenarioRun",
    "ScenarioRunCreate",
    "ScenarioRunStatus",
]


class ScenarioRunStatus(StrEnum):
    queued = "queued"
    running = "running"
    passed = "passed"  # every scenario passed
    failed = "failed"  # at least one scenario failed or errored
    error = "error"  # the run itself could not complete
    cancelled = "cancelled"


class ScenarioOutcome(StrEnum):
    passed = "passed"
    failed = "failed"
    error = "error"


class Scenario(Wire):
    id: str
    name: str
    description: str = ""
    agent: str
    prompt: str
    needs_project: bool = False
    tags: list[str] = Field(default_factory=list)
    #: The validation rubric applied to the agent's answer.
    rubric: dict[str, Any] = Field(default_factory=dict)


class ScenarioRunCreate(Request):
    #: Which scenarios; omitted or empty runs all of them.
    scenario_ids: list[Annotated[str, StringConstraints(min_length=1, max_length=100)]] | None = Field(
        default=None, max_length=100)
    #: Project context for the agents (scenarios that need one are skipped as errors without it).
    project_id: Id | None = None
    label: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), ONE_LINE] = ""


class ScenarioResult(Wire):
    scenario_id: str
    name: str
    agent: str
    outcome: ScenarioOutcome
    score: int | None = None
    answer_excerpt: str = ""
    findings: list[ValidationFinding] = Field(default_factory=list[ValidationFinding])
    validation_id: str | None = None
    error: str = ""
    duration_ms: int = 0


class ScenarioRun(Wire):
    id: str
    status: ScenarioRunStatus
    #: How it ran: "job" (a durable agent job; poll the run) or "inline" (in the request).
    mode: str
    job_id: str | None = None
    label: str = ""
    project_id: str | None = None
    scenario_ids: list[str]
    total: int
    passed_count: int = 0
    failed_count: int = 0
    error_count: int = 0
    actor_id: str | None = None
    actor: str = ""
    error: str = ""
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    results: list[ScenarioResult] = Field(default_factory=list[ScenarioResult])
