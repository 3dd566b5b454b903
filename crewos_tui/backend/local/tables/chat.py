"""Chat tables: sessions, their messages, shares, feedback, and agent runs of chat."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from . import fk_column, json_column, table_of, utc_column

__all__ = ["ChatMessageRow", "ChatRunRow", "ChatSessionRow", "MessageFeedbackRow", "SessionShareRow"]


class ChatSessionRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "chat_sessions"
    id: str = Field(primary_key=True)
    owner_id: str = fk_column("users.id", index=False)  # covered by ix_chat_sessions_owner
    title: str = ""
    status: str = "active"  # active | closed | archived
    project_id: str | None = fk_column("projects.id", ondelete="SET NULL", nullable=True)
    agent: str | None = None
    tags: list[str] = json_column(list)
    #: The id of the newest message (a ULID), so "recent activity first" pages by keyset.
    last_activity_id: str
    created_at: datetime = utc_column()
    updated_at: datetime = utc_column()
    last_message_at: datetime | None = utc_column(nullable=True)
    closed_at: datetime | None = utc_column(nullable=True)
    archived_at: datetime | None = utc_column(nullable=True)


Index("ix_chat_sessions_owner", table_of(ChatSessionRow).c.owner_id, table_of(ChatSessionRow).c.last_activity_id)


class ChatMessageRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "chat_messages"
    id: str = Field(primary_key=True)
    session_id: str = fk_column("chat_sessions.id")
    role: str  # user | assistant
    content: str = ""
    author_id: str | None = None
    author: str = ""
    agent: str | None = None
    status: str = "complete"
    model: str | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    run_id: str | None = Field(default=None, index=True)
    sources: list[str] = json_column(list)
    data: dict[str, Any] = json_column(dict)
    error: str | None = None
    created_at: datetime = utc_column()
    completed_at: datetime | None = utc_column(nullable=True)


class SessionShareRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "session_shares"
    id: str = Field(primary_key=True)
    session_id: str = fk_column("chat_sessions.id")
    invitee_id: str = fk_column("users.id")
    status: str = "pending"  # pending | accepted | revoked
    created_by: str = ""
    created_at: datetime = utc_column()
    accepted_at: datetime | None = utc_column(nullable=True)
    revoked_at: datetime | None = utc_column(nullable=True)


class MessageFeedbackRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "message_feedback"
    __table_args__ = (UniqueConstraint("message_id", "user_id", name="uq_feedback_message_user"),)
    id: str = Field(primary_key=True)
    session_id: str = fk_column("chat_sessions.id")
    message_id: str = fk_column("chat_messages.id", index=False)
    user_id: str = fk_column("users.id", index=False)
    username: str = ""
    rating: str  # up | down
    comment: str = ""
    agent: str | None = None
    created_at: datetime = utc_column(index=True)
    updated_at: datetime | None = utc_column(nullable=True)


class ChatRunRow(SQLModel, table=True):
    """One agent run of chat: a durable record, so a restart finds what was unfinished."""

    __tablename__: ClassVar[str] = "chat_runs"
    id: str = Field(primary_key=True)
    session_id: str = fk_column("chat_sessions.id")
    message_id: str  # the assistant message it fills
    user_id: str | None = None
    username: str = ""
    agent: str
    project_id: str | None = None
    # queued | running | completed | cancelled | failed | interrupted
    status: str = Field(default="running", index=True)
    durable: bool = False
    worker: str = ""  # the process that runs it
    error: str | None = None
    created_at: datetime = utc_column()
    started_at: datetime | None = utc_column(nullable=True)
    finished_at: datetime | None = utc_column(nullable=True)
