"""Rows → wire models for chat sessions."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ....schemas import ChatMessage, ChatSession, MessageFeedback, SessionShare
from ....schemas.sessions import FeedbackRating, SessionStatus
from ...tables import (
    ChatMessageRow,
    ChatSessionRow,
    MessageFeedbackRow,
    SessionShareRow,
    UserRow,
    table_of,
)


def message_count_column():
    return (select(func.count()).select_from(table_of(ChatMessageRow))
            .where(table_of(ChatMessageRow).c.session_id == table_of(ChatSessionRow).c.id)
            .correlate(table_of(ChatSessionRow)).scalar_subquery().label("message_count"))


def session_model(row: ChatSessionRow, owner: str, count: int, access: str = "owner",
                  share_id: str | None = None) -> ChatSession:
    return ChatSession(
        id=row.id, title=row.title, status=SessionStatus(row.status), owner_id=row.owner_id, owner=owner,
        project_id=row.project_id, agent=row.agent, tags=list(row.tags), created_at=row.created_at,
        updated_at=row.updated_at, closed_at=row.closed_at, archived_at=row.archived_at,
        last_message_at=row.last_message_at, message_count=count, access=access, share_id=share_id,
    )


async def session_with_counts(s: AsyncSession, row: ChatSessionRow, access: str = "owner",
                              share_id: str | None = None) -> ChatSession:
    await s.flush()
    owner = await s.scalar(select(col(UserRow.username)).where(col(UserRow.id) == row.owner_id)) or ""
    count = await s.scalar(select(func.count()).where(col(ChatMessageRow.session_id) == row.id)) or 0
    return session_model(row, owner, int(count), access, share_id)


def message_model(row: ChatMessageRow, my_rating: str | None = None) -> ChatMessage:
    return ChatMessage(
        id=row.id, session_id=row.session_id, role=row.role, content=row.content, author=row.author,
        agent=row.agent, status=row.status, model=row.model, tokens_in=row.tokens_in, tokens_out=row.tokens_out,
        run_id=row.run_id, sources=list(row.sources), data=dict(row.data), error=row.error,
        created_at=row.created_at, completed_at=row.completed_at, my_rating=my_rating,
    )


async def messages_of(s: AsyncSession, session_id: str, user_id: str | None) -> list[ChatMessage]:
    """Every message of a session, oldest first, with the caller's rating of each reply."""
    stmt = (select(ChatMessageRow, col(MessageFeedbackRow.rating))
            .outerjoin(MessageFeedbackRow, (col(MessageFeedbackRow.message_id) == col(ChatMessageRow.id))
                       & (col(MessageFeedbackRow.user_id) == user_id))
            .where(col(ChatMessageRow.session_id) == session_id).order_by(col(ChatMessageRow.id)))
    return [message_model(m, r) for m, r in (await s.execute(stmt)).all()]


def share_model(row: SessionShareRow, invitee: str) -> SessionShare:
    return SessionShare(
        id=row.id, session_id=row.session_id, invitee_id=row.invitee_id, invitee=invitee, status=row.status,
        created_by=row.created_by, created_at=row.created_at, accepted_at=row.accepted_at, revoked_at=row.revoked_at,
    )


def feedback_model(row: MessageFeedbackRow) -> MessageFeedback:
    return MessageFeedback(
        id=row.id, session_id=row.session_id, message_id=row.message_id, user_id=row.user_id,
        username=row.username, rating=FeedbackRating(row.rating), comment=row.comment, agent=row.agent,
        created_at=row.created_at, updated_at=row.updated_at,
    )
