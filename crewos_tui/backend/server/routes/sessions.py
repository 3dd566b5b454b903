"""Sessions, transcripts, shares and feedback: /api/v1/sessions..., /api/v1/feedback/metrics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ...schemas import (
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
    SessionStatus,
    SessionTranscript,
)
from ..auth import Caller, ServicesDep
from ._common import AUTHED_ERRORS, DEFAULT_LIMIT, CrewOSRoute, CursorQuery, LimitQuery

router = APIRouter(route_class=CrewOSRoute, prefix="/api/v1", tags=["sessions"], responses=AUTHED_ERRORS)
S = "/sessions/{session_id}"


@router.post("/sessions", status_code=201, response_model=ChatSession,
             summary="Create a standalone session")
async def create_session(body: ChatSessionCreate, services: ServicesDep, principal: Caller) -> ChatSession:
    return await services.sessions.create(principal, body)


@router.get("/sessions", response_model=Page[ChatSession], summary="List sessions visible to the caller")
async def list_sessions(
    services: ServicesDep,
    principal: Caller,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
    status: SessionStatus | None = None,
    scope: Annotated[str | None,
                     Query(pattern="^(mine|shared|invited)$", description="mine | shared | invited")] = None,
    project_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[ChatSession]:
    return await services.sessions.list(principal, limit=limit, cursor=cursor, status=status, scope=scope,
                                        project_id=project_id)


@router.get(S, response_model=ChatSessionDetail, summary="Fetch session detail and messages")
async def get_session(session_id: str, services: ServicesDep, principal: Caller) -> ChatSessionDetail:
    return await services.sessions.get(principal, session_id)


@router.patch(S, response_model=ChatSession, summary="Update session metadata")
async def update_session(session_id: str, body: ChatSessionUpdate, services: ServicesDep,
                         principal: Caller) -> ChatSession:
    return await services.sessions.update(principal, session_id, body)


@router.post(S + "/close", response_model=ChatSession, summary="Close an active session")
async def close_session(session_id: str, services: ServicesDep, principal: Caller) -> ChatSession:
    return await services.sessions.close(principal, session_id)


@router.post(S + "/archive", response_model=ChatSession, summary="Archive a session")
async def archive_session(session_id: str, services: ServicesDep, principal: Caller) -> ChatSession:
    return await services.sessions.archive(principal, session_id)


@router.get(S + "/transcript", response_model=SessionTranscript, summary="Fetch a transcript")
async def transcript(session_id: str, services: ServicesDep, principal: Caller) -> SessionTranscript:
    return await services.sessions.transcript(principal, session_id)


@router.get(S + "/export", response_model=SessionExport, summary="Export a session bundle")
async def export_session(session_id: str, services: ServicesDep, principal: Caller) -> SessionExport:
    return await services.sessions.export(principal, session_id)


@router.get(S + "/replay", response_model=SessionReplay, summary="Fetch replay data for a session")
async def replay(session_id: str, services: ServicesDep, principal: Caller) -> SessionReplay:
    return await services.sessions.replay(principal, session_id)


@router.get(S + "/shares", response_model=Page[SessionShare],
            summary="List share links or invitations for a session")
async def list_shares(
    session_id: str, services: ServicesDep, principal: Caller, limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> Page[SessionShare]:
    return await services.sessions.list_shares(principal, session_id, limit=limit, cursor=cursor)


@router.post(S + "/shares", status_code=201, response_model=SessionShare,
             summary="Create a session share invitation")
async def create_share(session_id: str, body: SessionShareCreate, services: ServicesDep,
                       principal: Caller) -> SessionShare:
    return await services.sessions.create_share(principal, session_id, body)


@router.post(S + "/shares/{share_id}/accept", response_model=SessionShare,
             summary="Accept a session share invitation")
async def accept_share(session_id: str, share_id: str, services: ServicesDep, principal: Caller) -> SessionShare:
    return await services.sessions.accept_share(principal, session_id, share_id)


@router.delete(S + "/shares/{share_id}", response_model=SessionShare,
               summary="Revoke a session share invitation")
async def revoke_share(session_id: str, share_id: str, services: ServicesDep, principal: Caller) -> SessionShare:
    return await services.sessions.revoke_share(principal, session_id, share_id)


@router.post(S + "/feedback", status_code=201, response_model=MessageFeedback,
             summary="Submit feedback against a session response")
async def submit_feedback(session_id: str, body: MessageFeedbackCreate, services: ServicesDep,
                          principal: Caller) -> MessageFeedback:
    return await services.sessions.submit_feedback(principal, session_id, body)


@router.get("/feedback/metrics", response_model=FeedbackMetrics, summary="Read aggregated feedback metrics")
async def feedback_metrics(
    services: ServicesDep,
    principal: Caller,
    days: Annotated[int, Query(ge=1, le=366, description="The last N days.")] = 30,
    agent: Annotated[str | None, Query(max_length=64)] = None,
    project_id: Annotated[str | None, Query(max_length=64)] = None,
) -> FeedbackMetrics:
    return await services.sessions.feedback_metrics(principal, days=days, agent=agent, project_id=project_id)
