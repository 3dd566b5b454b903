"""What the Backend offers for chat sessions, transcripts, shares and feedback."""

from __future__ import annotations

from typing import Protocol

from ..schemas import (
    ChatSession,
    ChatSessionCreate,
    ChatSessionDetail,
    ChatSessionUpdate,
    FeedbackMetrics,
    MessageFeedback,
    MessageFeedbackCreate,
    Page,
    SessionExport,
    SessionReplay,
    SessionShare,
    SessionShareCreate,
    SessionTranscript,
)
from ..schemas.common import DEFAULT_LIMIT


class SessionsAPI(Protocol):
    async def create(self, data: ChatSessionCreate) -> ChatSession:
        """A new, empty session owned by the caller."""
        ...

    async def list(
        self,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
        status: str | None = None,
        scope: str | None = None,
        project_id: str | None = None,
    ) -> Page[ChatSession]:
        """Own and accepted sessions, recent activity first (archived only when asked);
        ``scope``: mine | shared | invited."""
        ...

    async def get(self, session_id: str) -> ChatSessionDetail:
        """A session with its messages."""
        ...

    async def update(self, session_id: str, data: ChatSessionUpdate) -> ChatSession:
        """Title, tags, default agent or project (owner)."""
        ...

    async def close(self, session_id: str) -> ChatSession:
        """Close an active session (owner): it takes no new messages."""
        ...

    async def archive(self, session_id: str) -> ChatSession:
        """Archive a session (owner): read-only and hidden from the default list."""
        ...

    async def transcript(self, session_id: str) -> SessionTranscript:
        """Markdown and JSON transcript."""
        ...

    async def export(self, session_id: str) -> SessionExport:
        """A bundle: metadata, messages, feedback, shares."""
        ...

    async def replay(self, session_id: str) -> SessionReplay:
        """The ordered events that re-render the session."""
        ...

    async def list_shares(
        self, session_id: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[SessionShare]:
        """Invitations of a session."""
        ...

    async def create_share(self, session_id: str, data: SessionShareCreate) -> SessionShare:
        """Invite a user (owner); they see the session after accepting."""
        ...

    async def accept_share(self, session_id: str, share_id: str) -> SessionShare:
        """Accept an invitation (the invitee)."""
        ...

    async def revoke_share(self, session_id: str, share_id: str) -> SessionShare:
        """Revoke an invitation (the owner, or the invitee leaving)."""
        ...

    async def submit_feedback(self, session_id: str, data: MessageFeedbackCreate) -> MessageFeedback:
        """Rate a reply up or down with an optional comment."""
        ...

    async def feedback_metrics(
        self, days: int = 30, agent: str | None = None, project_id: str | None = None
    ) -> FeedbackMetrics:
        """Aggregated feedback: counts, up-ratio, by agent, by day."""
        ...
