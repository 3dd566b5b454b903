"""Tables of the review slice: the review queue, validation runs, scenario test runs
and capability-gap reports. Created by the "review slice" step in ``db.MIGRATIONS``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import Column, ForeignKey, Index, Integer, LargeBinary, String
from sqlmodel import Field, SQLModel

from . import fk_column, json_column, table_of, utc_column

__all__ = [
    "CapabilityGapFindingRow",
    "CapabilityGapReportRow",
    "ReviewAttachmentRow",
    "ReviewDecisionRow",
    "ReviewItemRow",
    "ReviewRequestedReviewerRow",
    "ScenarioResultRow",
    "ScenarioRunRow",
    "ValidationRunRow",
]


# ---- review queue -------------------------------------------------------------------


class ReviewItemRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "review_items"
    id: str = Field(primary_key=True)
    kind: str
    title: str
    summary: str = ""
    payload: Any = json_column(lambda: None)
    payload_format: str = "json"
    project_id: str | None = fk_column("projects.id", nullable=True)
    #: 0 urgent .. 3 low, so "priority order" is an ascending keyset (rank, id).
    priority_rank: int = 2
    state: str = "pending"
    source: str = "user"
    source_ref: str | None = None
    submitter_id: str | None = fk_column("users.id", ondelete="SET NULL", nullable=True)
    submitter: str = ""
    requested_reviewer_ids: list[str] = json_column(list)
    transcript: list[dict[str, Any]] = json_column(list)
    transcript_messages: int = 0  # so lists need not load the transcript
    created_at: datetime = utc_column()
    updated_at: datetime = utc_column()
    decided_at: datetime | None = utc_column(nullable=True)
    decided_by_id: str | None = None
    decided_by: str | None = None
    decision_reason: str = ""


Index("ix_review_items_state_id", table_of(ReviewItemRow).c.state, table_of(ReviewItemRow).c.id)
Index("ix_review_items_state_rank_id", table_of(ReviewItemRow).c.state,
      table_of(ReviewItemRow).c.priority_rank, table_of(ReviewItemRow).c.id)
Index("ix_review_items_decided", table_of(ReviewItemRow).c.decided_by_id, table_of(ReviewItemRow).c.decided_at)


class ReviewRequestedReviewerRow(SQLModel, table=True):
    """Who the submitter asked to review (a table, so "asked of me" is an indexed filter)."""

    __tablename__: ClassVar[str] = "review_requested_reviewers"
    item_id: str = Field(sa_column=Column(String, ForeignKey("review_items.id", ondelete="CASCADE"),
                                          primary_key=True))
    user_id: str = Field(sa_column=Column(String, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True))


Index("ix_review_requested_user", table_of(ReviewRequestedReviewerRow).c.user_id)


class ReviewAttachmentRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "review_attachments"
    id: str = Field(primary_key=True)
    item_id: str = fk_column("review_items.id")
    position: int = Field(sa_column=Column(Integer, nullable=False))
    filename: str
    content_type: str
    size: int
    sha256: str
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class ReviewDecisionRow(SQLModel, table=True):
    """Every decision ever taken on an item (the item row holds only the latest)."""

    __tablename__: ClassVar[str] = "review_decisions"
    id: str = Field(primary_key=True)
    item_id: str = fk_column("review_items.id")
    action: str
    from_state: str
    to_state: str
    actor_id: str | None = None
    actor: str = ""
    reason: str = ""
    batch_id: str | None = Field(default=None, index=True)
    created_at: datetime = utc_column()


# ---- validation ---------------------------------------------------------------------


class ValidationRunRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "validation_runs"
    id: str = Field(primary_key=True)
    score: int
    passed: bool
    threshold: int
    findings: list[dict[str, Any]] = json_column(list)
    rubric: dict[str, Any] = json_column(dict)
    format: str
    output_chars: int
    output_words: int
    output_sha256: str
    output_excerpt: str = ""
    item_id: str | None = fk_column("review_items.id", ondelete="SET NULL", nullable=True)
    project_id: str | None = fk_column("projects.id", ondelete="SET NULL", nullable=True)
    source: str = "api"
    label: str = ""
    actor_id: str | None = Field(default=None, index=True)
    actor: str = ""
    created_at: datetime = utc_column()


# ---- testing ------------------------------------------------------------------------


class ScenarioRunRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "scenario_runs"
    id: str = Field(primary_key=True)
    status: str = Field(default="queued", index=True)
    mode: str = "inline"
    job_id: str | None = None
    label: str = ""
    project_id: str | None = fk_column("projects.id", ondelete="SET NULL", nullable=True)
    scenario_ids: list[str] = json_column(list)
    total: int = 0
    passed_count: int = 0
    failed_count: int = 0
    error_count: int = 0
    actor_id: str | None = Field(default=None, index=True)
    actor: str = ""
    error: str = ""
    created_at: datetime = utc_column()
    started_at: datetime | None = utc_column(nullable=True)
    finished_at: datetime | None = utc_column(nullable=True)


class ScenarioResultRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "scenario_results"
    id: str = Field(primary_key=True)
    run_id: str = fk_column("scenario_runs.id")
    position: int = 0
    scenario_id: str
    name: str
    agent: str
    outcome: str
    score: int | None = None
    answer_excerpt: str = ""
    findings: list[dict[str, Any]] = json_column(list)
    validation_id: str | None = None
    error: str = ""
    duration_ms: int = 0
    created_at: datetime = utc_column()


# ---- capability gaps ----------------------------------------------------------------


class CapabilityGapReportRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "capability_gap_reports"
    id: str = Field(primary_key=True)
    project_id: str | None = fk_column("projects.id", nullable=True)
    since: datetime = utc_column()
    until: datetime = utc_column()
    scanned: dict[str, int] = json_column(dict)
    skipped_sources: list[str] = json_column(list)
    finding_ids: list[str] = json_column(list)
    severity_counts: dict[str, int] = json_column(dict)
    actor_id: str | None = Field(default=None, index=True)
    actor: str = ""
    created_at: datetime = utc_column()


class CapabilityGapFindingRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "capability_gap_findings"
    id: str = Field(primary_key=True)
    #: What the finding is about, stable across reports: a later report updates the
    #: open finding of the same fingerprint instead of adding a duplicate.
    fingerprint: str = Field(index=True)
    capability: str
    title: str
    summary: str = ""
    severity: str = "low"
    status: str = Field(default="open", index=True)
    project_id: str | None = fk_column("projects.id", nullable=True)
    report_id: str = fk_column("capability_gap_reports.id")
    last_report_id: str
    evidence: list[dict[str, Any]] = json_column(list)
    evidence_count: int = 0
    task_id: str | None = None
    status_note: str = ""
    status_changed_by: str | None = None
    actor_id: str | None = None  # who ran the report that first found it
    created_at: datetime = utc_column()
    updated_at: datetime = utc_column()
