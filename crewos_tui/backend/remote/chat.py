"""Chat over HTTP, with streaming read by httpx-sse.

The stream reader is tolerant, because a real CrewOS server may differ in detail:
token pieces may be in ``delta``, ``token``, ``content`` or ``text`` (or OpenAI-style
``choices[0].delta.content``); ``data: [DONE]`` ends the stream; an unnamed event
carrying a delta is a token; a stream that ends without ``done`` gets one made from
the pieces; and a server that answers plain JSON instead of a stream is read as
start → token → done.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import httpx
from httpx_sse import ServerSentEvent, aconnect_sse

from ..errors import Unavailable, error_for_status
from ..schemas import (
    ChatCancel,
    ChatCancelResult,
    ChatReply,
    ChatRequest,
    ChatStreamEvent,
    OrchestratorStatus,
)
from .http import API, _detail_of, _model, _retry_after

if TYPE_CHECKING:
    from .http import HttpClient

DELTA_KEYS = ("delta", "token", "content", "text")
DONE_EVENTS = {"done", "final", "end", "complete", "completed"}
TOKEN_EVENTS = {"token", "delta", "message", "chunk", ""}


def _delta_of(data: Any) -> str | None:
    if isinstance(data, str):
        return data
    if not isinstance(data, dict):
        return None
    for choice in data.get("choices") or []:  # OpenAI-style chunks
        piece = (choice.get("delta") or {}).get("content") if isinstance(choice, dict) else None
        if piece:
            return str(piece)
    for key in DELTA_KEYS:
        value = data.get(key)
        if isinstance(value, str):
            return value
    return None


def parse_event(sse: ServerSentEvent) -> ChatStreamEvent | None:
    """One SSE as a ChatStreamEvent; None for ``[DONE]``."""
    raw = sse.data.strip()
    if raw == "[DONE]":
        return None
    try:
        data: Any = json.loads(raw) if raw else {}
    except ValueError:
        data = sse.data
    name = (sse.event or "").strip().lower()
    if name == "error":
        body = data if isinstance(data, dict) else {"message": str(data)}
        return ChatStreamEvent(event="error", data={"code": body.get("code", 500),
                                                    "message": body.get("message") or body.get("detail") or ""})
    if name in DONE_EVENTS:
        return ChatStreamEvent(event="done", data=data if isinstance(data, dict) else {"content": str(data)})
    if name in ("start", "progress"):
        return ChatStreamEvent(event=name, data=data if isinstance(data, dict) else {"message": str(data)})
    if name in TOKEN_EVENTS:
        delta = _delta_of(data)
        if delta is not None:
            return ChatStreamEvent(event="token", data={"delta": delta})
    return ChatStreamEvent(event="progress", data=data if isinstance(data, dict) else {"message": str(data)})


def _from_plain(payload: Any) -> list[ChatStreamEvent]:
    """A non-streaming JSON answer as the events a stream would have given."""
    body = payload if isinstance(payload, dict) else {"content": str(payload)}
    content = str(body.get("content") or body.get("reply") or body.get("answer") or body.get("text") or "")
    start = {k: body[k] for k in ("session_id", "message_id", "run_id", "agent") if k in body}
    return [ChatStreamEvent(event="start", data=start), ChatStreamEvent(event="token", data={"delta": content}),
            ChatStreamEvent(event="done", data={**body, "content": content})]


class RemoteChat:
    def __init__(self, backend: HttpClient) -> None:
        self._b = backend

    @staticmethod
    def _form(message: str, project_id: str | None, session_id: str | None, agent: str | None,
              **extra: str) -> dict[str, str]:
        form = {"message": message, "project_id": project_id, "session_id": session_id, "agent": agent, **extra}
        return {k: v for k, v in form.items() if v is not None}

    async def send(
        self, message: str, project_id: str | None = None, session_id: str | None = None, agent: str | None = None,
        durable: bool = False,
    ) -> ChatReply:
        form = self._form(message, project_id, session_id, agent, **({"durable": "true"} if durable else {}))
        return _model(ChatReply, await self._b.request("POST", f"{API}/chat", data=form))

    async def _events(self, path: str, **body: Any) -> AsyncIterator[ChatStreamEvent]:
        # The shared client (credentials, base URL); no read timeout while a reply streams.
        client: httpx.AsyncClient = self._b._client
        headers = self._b._credential_headers("any")
        timeout = httpx.Timeout(self._b.timeout, read=None)
        pieces: list[str] = []
        finished = False
        try:
            async with aconnect_sse(client, "POST", path, headers=headers, timeout=timeout, **body) as source:
                response = source.response
                if response.status_code >= 400:
                    await response.aread()
                    raise error_for_status(response.status_code, _detail_of(response), _retry_after(response))
                if "text/event-stream" not in response.headers.get("content-type", ""):
                    await response.aread()
                    for event in _from_plain(response.json()):
                        yield event
                    return
                async for sse in source.aiter_sse():
                    event = parse_event(sse)
                    if event is None:
                        break
                    if event.event == "token":
                        pieces.append(event.delta)
                    finished = finished or event.event in ("done", "error")
                    yield event
        except httpx.TimeoutException:
            raise Unavailable(f"{self._b.base_url} did not answer within {self._b.timeout:g} s") from None
        except httpx.TransportError as exc:
            raise Unavailable(f"the stream from {self._b.base_url} broke: {exc or exc.__class__.__name__}") from None
        if not finished and pieces:
            yield ChatStreamEvent(event="done", data={"content": "".join(pieces)})

    async def stream(
        self, message: str, project_id: str | None = None, session_id: str | None = None, agent: str | None = None,
    ) -> AsyncIterator[ChatStreamEvent]:
        async for event in self._events(f"{API}/chat/stream", data=self._form(message, project_id, session_id, agent)):
            yield event

    async def cancel(self, id: str) -> ChatCancelResult:
        payload = await self._b.request("POST", f"{API}/chat/cancel", json=ChatCancel(id=id).model_dump())
        return _model(ChatCancelResult, payload)

    async def external_chat(self, data: ChatRequest) -> ChatReply:
        payload = await self._b.request("POST", f"{API}/external/chat", json=data.model_dump(mode="json"))
        return _model(ChatReply, payload)

    async def external_stream(self, data: ChatRequest) -> AsyncIterator[ChatStreamEvent]:
        async for event in self._events(f"{API}/external/chat/stream", json=data.model_dump(mode="json")):
            yield event

    async def orchestrator_status(self) -> OrchestratorStatus:
        return _model(OrchestratorStatus, await self._b.request("GET", f"{API}/orchestrator/status"))
