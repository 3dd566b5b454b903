"""Chat and agent runs: /api/v1/chat..., /api/v1/external/chat..., /api/v1/orchestrator/status.

Streaming answers are server-sent events (``text/event-stream``): ``event: start``,
``event: token`` with ``{"delta": ...}`` repeatedly, then ``event: done`` (the final
reply) or ``event: error`` (``{code, message}``); every stream ends with one of the
two, so a client knows a stream without it was cut. While the reply is slow (a model
thinking), a comment line ``: keep-alive`` goes out every ``KEEPALIVE_SECONDS``, so
proxies and the client's silence limit see a live connection. Errors found before
the stream starts (empty message, unknown session, a refused run) are ordinary HTTP
errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import StreamingResponse

from ...schemas import (
    ChatCancel,
    ChatCancelResult,
    ChatReply,
    ChatRequest,
    ChatStreamEvent,
    OrchestratorStatus,
)
from ..auth import Caller, ServicesDep
from ._common import AUTHED_ERRORS, CrewOSRoute

log = logging.getLogger(__name__)
router = APIRouter(route_class=CrewOSRoute, prefix="/api/v1", tags=["chat"], responses=AUTHED_ERRORS)
SSE_DOC: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/event-stream": {}}, "description": "Server-sent events: start, token…, done | error"}}

MessageForm = Annotated[str, Form(description="The message.")]
OptionalForm = Annotated[str | None, Form()]


#: Seconds without an event after which the stream sends a keep-alive comment.
KEEPALIVE_SECONDS = 5.0
KEEPALIVE = b": keep-alive\n\n"


def _sse(event: ChatStreamEvent) -> bytes:
    return f"event: {event.event}\ndata: {json.dumps(event.data, separators=(',', ':'))}\n\n".encode()


async def sse_response(events: AsyncIterator[ChatStreamEvent]) -> StreamingResponse:
    first = await anext(events)  # raises before the response starts: a real HTTP error

    async def body() -> AsyncIterator[bytes]:
        # The next event is awaited in a task of its own: waiting for it with a timeout
        # must not cancel the run's generator, only add a keep-alive while it thinks.
        pending: asyncio.Task[ChatStreamEvent] | None = None
        try:
            yield _sse(first)
            while True:
                if pending is None:
                    pending = asyncio.ensure_future(anext(events))
                done, _ = await asyncio.wait({pending}, timeout=KEEPALIVE_SECONDS)
                if not done:
                    yield KEEPALIVE
                    continue
                try:
                    event = pending.result()
                except StopAsyncIteration:
                    return
                except Exception:  # a bug: the stream still ends with its final event
                    log.exception("chat stream failed")
                    yield _sse(ChatStreamEvent(event="error", data={"code": 500, "message": "internal error"}))
                    return
                finally:
                    pending = None
                yield _sse(event)
        finally:  # the client went away (or we finished): stop the run, keep the partial reply
            if pending is not None:
                pending.cancel()
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await pending
            await events.aclose()  # type: ignore[attr-defined]

    return StreamingResponse(body(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.post("/chat", response_model=ChatReply, summary="Send a CrewOS chat message")
async def chat(
    services: ServicesDep,
    principal: Caller,
    message: MessageForm,
    project_id: OptionalForm = None,
    session_id: OptionalForm = None,
    agent: OptionalForm = None,
    durable: Annotated[bool, Form(description="Answer at once with a job id.")] = False,
) -> ChatReply:
    return await services.chat.send(principal, message, project_id, session_id, agent, durable)


@router.post("/chat/stream", response_class=StreamingResponse, responses=SSE_DOC,
             summary="Stream CrewOS chat progress and final output")
async def chat_stream(
    services: ServicesDep,
    principal: Caller,
    message: MessageForm,
    project_id: OptionalForm = None,
    session_id: OptionalForm = None,
    agent: OptionalForm = None,
) -> StreamingResponse:
    return await sse_response(services.chat.stream(principal, message, project_id, session_id, agent))


@router.post("/chat/cancel", response_model=ChatCancelResult,
             summary="Cancel an active chat stream or run")
async def chat_cancel(body: ChatCancel, services: ServicesDep, principal: Caller) -> ChatCancelResult:
    return await services.chat.cancel(principal, body.id)


@router.post("/external/chat", response_model=ChatReply,
             summary="Compatibility chat endpoint for external agent clients")
async def external_chat(body: ChatRequest, services: ServicesDep, principal: Caller) -> ChatReply:
    return await services.chat.external_chat(principal, body)


@router.post("/external/chat/stream", response_class=StreamingResponse, responses=SSE_DOC,
             summary="Streaming compatibility chat endpoint for external agent clients")
async def external_chat_stream(body: ChatRequest, services: ServicesDep, principal: Caller) -> StreamingResponse:
    return await sse_response(services.chat.external_stream(principal, body))


@router.get("/orchestrator/status", response_model=OrchestratorStatus, summary="Read orchestrator runtime status")
async def orchestrator_status(services: ServicesDep, principal: Caller) -> OrchestratorStatus:
    return await services.chat.orchestrator_status(principal)
