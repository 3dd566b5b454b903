"""The review queue: items submitted for a human decision, decisions, batches, stats."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, StringConstraints, model_validator

from .common import Id, Request, Text, Wire
from .text import MULTI_LINE, ONE_LINE

__all__ = [
    "PayloadFormat",
    "ReviewAction",
    "ReviewAgeBucket",
    "ReviewAttachment",
    "ReviewAttachmentContent",
    "ReviewAttachmentIn",
    "ReviewBatch",
    "ReviewBatchDecision",
    "ReviewBatchItemResult",
    "ReviewBatchResult",
    "ReviewDecisionRecord",
    "ReviewItem",
    "ReviewItemCreate",
    "ReviewItemDecision",
    "ReviewOrder",
    "ReviewPriority",
    "ReviewProjectCounts",
    "ReviewSource",
    "ReviewState",
    "ReviewStats",
    "ReviewTranscript",
    "TranscriptMessage",
    "TranscriptMessageIn",
]

#: Most decisions one batch may carry.
MAX_BATCH = 500
#: Most attachments one item may carry.
MAX_ATTACHMENTS = 10
#: Most requested reviewers one item may name.
MAX_REVIEWERS = 20

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), ONE_LINE]
Kind = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64,
                                        pattern=r"^[A-Za-z0-9_.:-]+$")]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000), MULTI_LINE]


class ReviewState(StrEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"
    quarantined = "quarantined"


class ReviewAction(StrEnum):
    approve = "approve"
    reject = "reject"
    quarantine = "quarantine"
    release = "release"  # quarantined -> pending


class ReviewPriority(StrEnum):
    low = "low"
    normal = "normal"
    high = "high"
    urgent = "urgent"


class ReviewSource(StrEnum):
    user = "user"
    agent = "agent"
    task = "task"


class PayloadFormat(StrEnum):
    json = "json"
    markdown = "markdown"
    text = "text"


class ReviewOrder(StrEnum):
    oldest = "oldest"  # first in, first out: what a reviewer clears
    newest = "newest"
    priority = "priority"  # urgent first, then oldest


class TranscriptMessageIn(Request):
    role: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
    content: str
    name: Annotated[str, StringConstraints(max_length=64), ONE_LINE] | None = None
    at: datetime | None = None


class TranscriptMessage(Wire):
    role: str
    content: str
    name: str | None = None
    at: datetime | None = None


class ReviewAttachmentIn(Request):
    """One attachment: text in ``content`` or bytes in ``content_base64`` (exactly one)."""

    filename: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255), ONE_LINE]
    content_type: Annotated[str, StringConstraints(max_length=128)] | None = None
    content: str | None = None
    content_base64: str | None = None

    @model_validator(mode="after")
    def _one_content(self) -> ReviewAttachmentIn:
        if (self.content is None) == (self.content_base64 is None):
            raise ValueError("give exactly one of content (text) or content_base64 (bytes)")
        return self


class ReviewItemCreate(Request):
    kind: Kind = "output"
    title: Title
    summary: Text = ""
    #: Any JSON value; a string is shown as markdown unless ``payload_format`` says otherwise.
    payload: Any = None
    payload_format: PayloadFormat | None = None
    #: Messages, or one plain text that becomes a single message.
    transcript: list[TranscriptMessageIn] | str | None = None
    attachments: list[ReviewAttachmentIn] = Field(default_factory=list[ReviewAttachmentIn], max_length=MAX_ATTACHMENTS)
    project_id: Id | None = None
    priority: ReviewPriority = ReviewPriority.normal
    requested_reviewer_ids: list[Id] = Field(default_factory=list, max_length=MAX_REVIEWERS)
    source: ReviewSource = ReviewSource.user
    #: The agent name or task id the item came from.
    source_ref: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), ONE_LINE] | None = None


class ReviewAttachment(Wire):
    index: int
    filename: str
    content_type: str
    size: int
    sha256: str


class ReviewAttachmentContent(Wire):
    """A downloaded attachment (the bytes are not part of any JSON answer)."""

    filename: str
    content_type: str
    size: int
    content: bytes


class ReviewDecisionRecord(Wire):
    action: ReviewAction
    from_state: ReviewState
    to_state: ReviewState
    actor_id: str | None = None
    actor: str
    reason: str = ""
    decided_at: datetime
    batch_id: str | None = None


class ReviewItem(Wire):
    id: str
    kind: str
    title: str
    summary: str = ""
    payload: Any = None
    payload_format: PayloadFormat = PayloadFormat.json
    project_id: str | None = None
    project_name: str | None = None
    priority: ReviewPriority = ReviewPriority.normal
    state: ReviewState
    source: ReviewSource = ReviewSource.user
    source_ref: str | None = None
    submitter_id: str | None = None
    submitter: str = ""
    requested_reviewer_ids: list[str] = Field(default_factory=list)
    attachments: list[ReviewAttachment] = Field(default_factory=list[ReviewAttachment])
    transcript_messages: int = 0
    created_at: datetime
    updated_at: datetime
    decided_at: datetime | None = None
    decided_by_id: str | None = None
    decided_by: str | None = None
    decision_reason: str = ""
    #: The decisions the caller may take now (the item's state and the caller's role).
    allowed_actions: list[ReviewAction] = Field(default_factory=list[ReviewAction])
    #: Decisions the item's state allows but the caller may not take, each with the reason.
    refusals: dict[ReviewAction, str] = Field(default_factory=dict[ReviewAction, str])
    #: Every decision so far, oldest first (only in the one-item answer).
    history: list[ReviewDecisionRecord] = Field(default_factory=list[ReviewDecisionRecord])


class ReviewItemDecision(Request):
    reason: Reason = ""


class ReviewBatchDecision(Request):
    item_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    action: ReviewAction
    reason: Reason = ""


class ReviewBatch(Request):
    decisions: list[ReviewBatchDecision] = Field(min_length=1, max_length=MAX_BATCH)


class ReviewBatchItemResult(Wire):
    item_id: str
    title: str = ""
    action: ReviewAction
    from_state: ReviewState
    to_state: ReviewState
    reason: str = ""


class ReviewBatchResult(Wire):
    """A batch that was applied (a refused batch is an error naming each bad item)."""

    batch_id: str
    actor_id: str | None = None
    actor: str
    decided_at: datetime
    results: list[ReviewBatchItemResult]


class ReviewTranscript(Wire):
    item_id: str
    messages: list[TranscriptMessage]
    markdown: str


class ReviewAgeBucket(Wire):
    label: str
    min_seconds: int
    max_seconds: int | None = None
    count: int


class ReviewProjectCounts(Wire):
    project_id: str | None = None
    project_name: str = ""
    pending: int = 0
    quarantined: int = 0
    approved: int = 0
    rejected: int = 0


class ReviewStats(Wire):
    total: int
    by_state: dict[str, int]
    by_project: list[ReviewProjectCounts]
    #: Open items (pending or quarantined) by how long they have waited.
    by_age: list[ReviewAgeBucket]
    decided_count: int
    median_seconds_to_decision: int | None = None
    pending: int
    oldest_pending_at: datetime | None = None
    my_decisions_today: int = 0
    generated_at: datetime
