"""Chat sessions, transcripts, shares and feedback over HTTP."""

from __future__ import annotations

from typing import TYPE_CHECKING

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
from .http import API, as_model, as_page, paging, seg

if TYPE_CHECKING:
    from .http import HttpClient


class RemoteSessions:
    def __init__(self, backend: HttpClient) -> None:
        self._b = backend

    @staticmethod
    def _p(session_id: str, *rest: str) -> str:
        return "/".join([f"{API}/sessions", seg(session_id), *rest])

    async def create(self, data: ChatSessionCreate) -> ChatSession:
        payload = await self._b.create(f"{API}/sessions", json=data.model_dump(mode="json"))
        return as_model(ChatSession, payload)

    async def list(
        self, limit: int = DEFAULT_LIMIT, cursor: str | None = None, status: str | None = None,
        scope: str | None = None, project_id: str | None = None,
    ) -> Page[ChatSession]:
        params = paging(limit, cursor, status=status, scope=scope, project_id=project_id)
        return as_page(ChatSession, await self._b.request("GET", f"{API}/sessions", params=params))

    async def get(self, session_id: str) -> ChatSessionDetail:
        return as_model(ChatSessionDetail, await self._b.request("GET", self._p(session_id)))

    async def update(self, session_id: str, data: ChatSessionUpdate) -> ChatSession:
        body = data.model_dump(mode="json", exclude_unset=True)
        return as_model(ChatSession, await self._b.request("PATCH", self._p(session_id), json=body))

    async def close(self, session_id: str) -> ChatSession:
        return as_model(ChatSession, await self._b.request("POST", self._p(session_id, "close")))

    async def archive(self, session_id: str) -> ChatSession:
        return as_model(ChatSession, await self._b.request("POST", self._p(session_id, "archive")))

    async def transcript(self, session_id: str) -> SessionTranscript:
        return as_model(SessionTranscript, await self._b.request("GET", self._p(session_id, "transcript")))

    async def export(self, session_id: str) -> SessionExport:
        return as_model(SessionExport, await self._b.request("GET", self._p(session_id, "export")))

    async def replay(self, session_id: str) -> SessionReplay:
        return as_model(SessionReplay, await self._b.request("GET", self._p(session_id, "replay")))

    async def list_shares(
        self, session_id: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[SessionShare]:
        payload = await self._b.request("GET", self._p(session_id, "shares"), params=paging(limit, cursor))
        return as_page(SessionShare, payload)

    async def create_share(self, session_id: str, data: SessionShareCreate) -> SessionShare:
        body = data.model_dump(mode="json", exclude_none=True)
        return as_model(SessionShare, await self._b.create(self._p(session_id, "shares"), json=body))

    async def accept_share(self, session_id: str, share_id: str) -> SessionShare:
        path = self._p(session_id, "shares", seg(share_id), "accept")
        return as_model(SessionShare, await self._b.request("POST", path))

    async def revoke_share(self, session_id: str, share_id: str) -> SessionShare:
        return as_model(SessionShare, await self._b.request("DELETE", self._p(session_id, "shares", seg(share_id))))

    async def submit_feedback(self, session_id: str, data: MessageFeedbackCreate) -> MessageFeedback:
        body = data.model_dump(mode="json")
        return as_model(MessageFeedback, await self._b.create(self._p(session_id, "feedback"), json=body))

    async def feedback_metrics(
        self, days: int = 30, agent: str | None = None, project_id: str | None = None
    ) -> FeedbackMetrics:
        params = {"days": days, "agent": agent, "project_id": project_id}
        return as_model(FeedbackMetrics, await self._b.request("GET", f"{API}/feedback/metrics", params=params))
