"""Chat sessions: metadata, messages, transcripts, export bundles, replay, shares, feedback."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, StringConstraints, model_validator

from .common import Id, Request, Text, Wire
from .text import ONE_LINE, SingleLine

__all__ = [
    "ChatMessage", "ChatSession", "ChatSessionCreate", "ChatSessionDetail", "ChatSessionUpdate", "FeedbackBucket",
    "FeedbackMetrics", "FeedbackRating", "MessageFeedback", "MessageFeedbackCreate", "ReplayEvent", "SessionExport",
    "SessionReplay", "SessionShare", "SessionShareCreate", "SessionStatus", "SessionTranscript",
]

Title = Annotated[str, StringConstraints(strip_whitespace=True, max_length=120), ONE_LINE]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32), ONE_LINE]
AgentName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64), ONE_LINE]


class SessionStatus(StrEnum):
    active = "active"
    closed = "closed"
    archived = "archived"


class ChatSessionCreate(Request):
    title: Title = ""
    project_id: str | None = None
    agent: AgentName | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=20)


class ChatSessionUpdate(Request):
    title: Title | None = None
    tags: list[Tag] | None = Field(default=None, max_length=20)
    agent: AgentName | None = None
    project_id: str | None = None


class ChatSession(Wire):
    id: str
    title: str = ""
    status: SessionStatus = SessionStatus.active
    owner_id: str | None = None
    owner: str = ""
    project_id: str | None = None
    agent: str | None = None
    tags: list[str] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None = None
    archived_at: datetime | None = None
    last_message_at: datetime | None = None
    message_count: int = 0
    access: str = "owner"  # owner | shared | invited (a pending invitation to the caller)
    share_id: str | None = None  # the caller's share, when access is shared/invited


class ChatMessage(Wire):
    id: str
    session_id: str
    role: str  # user | assistant
    content: str = ""
    author: str = ""
    agent: str | None = None
    status: str = "complete"  # complete | streaming | queued | cancelled | failed | interrupted
    model: str | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    run_id: str | None = None
    sources: list[str] = Field(default_factory=list)
    data: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None
    created_at: datetime
    completed_at: datetime | None = None
    my_rating: str | None = None  # the caller's feedback on this reply


class ChatSessionDetail(ChatSession):
    messages: list[ChatMessage] = Field(default_factory=list[ChatMessage])


class SessionTranscript(Wire):
    session_id: str
    title: str = ""
    markdown: str = ""
    messages: list[ChatMessage] = Field(default_factory=list[ChatMessage])


class FeedbackRating(StrEnum):
    up = "up"
    down = "down"


class MessageFeedbackCreate(Request):
    message_id: Id
    rating: FeedbackRating
    comment: Text = ""


class MessageFeedback(Wire):
    id: str
    session_id: str
    message_id: str
    user_id: str | None = None
    username: str = ""
    rating: FeedbackRating
    comment: str = ""
    agent: str | None = None
    created_at: datetime
    updated_at: datetime | None = None


class SessionShareCreate(Request):
    """Invite one user, by id or by username."""

    user_id: Id | None = None
    username: SingleLine | None = None

    @model_validator(mode="after")
    def _one_user(self) -> SessionShareCreate:
        if not (self.user_id or self.username):
            raise ValueError("give user_id or username")
        return self


class SessionShare(Wire):
    id: str
    session_id: str
    invitee_id: str
    invitee: str = ""
    status: str = "pending"  # pending | accepted | revoked
    created_by: str = ""
    created_at: datetime
    accepted_at: datetime | None = None
    revoked_at: datetime | None = None


class SessionExport(Wire):
    """A self-contained bundle of one session."""

    format: str = "crewos-session-export/1"
    exported_at: datetime
    session: ChatSession
    messages: list[ChatMessage] = Field(default_factory=list[ChatMessage])
    feedback: list[MessageFeedback] = Field(default_factory=list[MessageFeedback])
    shares: list[SessionShare] = Field(default_factory=list[SessionShare])


class ReplayEvent(Wire):
    seq: int
    # session.created | message | assistant.start | assistant.delta | assistant.done | feedback
    # | session.closed | session.archived
    type: str
    at: datetime | None = None
    message_id: str | None = None
    role: str | None = None
    agent: str | None = None
    content: str | None = None  # a whole message (message, assistant.done) or a delta
    status: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class SessionReplay(Wire):
    session_id: str
    title: str = ""
    events: list[ReplayEvent] = Field(default_factory=list[ReplayEvent])


class FeedbackBucket(Wire):
    key: str  # the agent name, or the day (YYYY-MM-DD)
    up: int = 0
    down: int = 0
    total: int = 0


class FeedbackMetrics(Wire):
    since: date
    until: date
    total: int = 0
    up: int = 0
    down: int = 0
    up_ratio: float = 0.0  # up / total, three decimals
    with_comment: int = 0
    by_agent: list[FeedbackBucket] = Field(default_factory=list[FeedbackBucket])
    by_day: list[FeedbackBucket] = Field(default_factory=list[FeedbackBucket])
