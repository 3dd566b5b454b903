"""Chat over HTTP, with streaming read by httpx-sse.

The stream reader is tolerant of shape, because a real CrewOS server may differ in
detail: token pieces may be in ``delta``, ``token``, ``content`` or ``text`` (or
OpenAI-style ``choices[0].delta.content``); ``data: [DONE]`` ends the stream (a
``done`` is made from the pieces); an unnamed event carrying a delta is a token; and
a server that answers plain JSON instead of a stream is read as start → token → done.

It is strict about the end: a stream must end with its final event (``done``,
``error`` or ``[DONE]``). One that ends without it, whose body breaks off, or that
sends nothing (not even a keep-alive comment) for ``stream_silence`` seconds raises
``StreamIncomplete`` with the number of characters that arrived, never a ``done``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, cast

import httpx
from httpx_sse import EventSource, ServerSentEvent

from ..errors import StreamIncomplete, Unavailable
from ..schemas import (
    ChatCancel,
    ChatCancelResult,
    ChatReply,
    ChatRequest,
    ChatStreamEvent,
    OrchestratorStatus,
)
from .http import API, as_model, transport_failure

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
    fields = cast(dict[str, Any], data)
    choices: list[Any] = fields.get("choices") or []
    for choice in choices:  # OpenAI-style chunks
        piece: Any = None
        if isinstance(choice, dict):
            delta: Any = cast(dict[str, Any], choice).get("delta") or {}
            piece = delta.get("content")
        if piece:
            return str(piece)
    for key in DELTA_KEYS:
        value = fields.get(key)
        if isinstance(value, str):
            return value
    return None


def _as_dict(data: Any, key: str) -> dict[str, Any]:
    """A JSON object as it is; anything else as ``{key: str(data)}``."""
    return cast(dict[str, Any], data) if isinstance(data, dict) else {key: str(data)}


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
        body = _as_dict(data, "message")
        return ChatStreamEvent(event="error", data={"code": body.get("code", 500),
                                                    "message": body.get("message") or body.get("detail") or ""})
    if name in DONE_EVENTS:
        return ChatStreamEvent(event="done", data=_as_dict(data, "content"))
    if name in ("start", "progress"):
        return ChatStreamEvent(event=name, data=_as_dict(data, "message"))
    if name in TOKEN_EVENTS:
        delta = _delta_of(data)
        if delta is not None:
            return ChatStreamEvent(event="token", data={"delta": delta})
    return ChatStreamEvent(event="progress", data=_as_dict(data, "message"))


def _from_plain(payload: Any) -> list[ChatStreamEvent]:
    """A non-streaming JSON answer as the events a stream would have given."""
    body = _as_dict(payload, "content")
    content = str(body.get("content") or body.get("reply") or body.get("answer") or body.get("text") or "")
    start = {k: body[k] for k in ("session_id", "message_id", "run_id", "agent") if k in body}
    return [ChatStreamEvent(event="start", data=start), ChatStreamEvent(event="token", data={"delta": content}),
            ChatStreamEvent(event="done", data={**body, "content": content})]


class _UntilSilent(httpx.AsyncByteStream):
    """A streamed body (decoded) that raises ``TimeoutError`` once nothing arrived for ``seconds``."""

    def __init__(self, source: httpx.Response, seconds: float) -> None:
        self._source, self._seconds = source, seconds

    def response(self) -> httpx.Response:
        """A response reading this body: the source's headers, less the encoding already undone."""
        headers = [(k, v) for k, v in self._source.headers.multi_items()
                   if k.lower() not in ("content-encoding", "content-length")]
        return httpx.Response(self._source.status_code, headers=headers, stream=self, request=self._source.request)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        chunks = self._source.aiter_bytes()
        while True:
            try:
                chunk = await asyncio.wait_for(anext(chunks), self._seconds)
            except StopAsyncIteration:
                return
            yield chunk

    async def aclose(self) -> None:
        await self._source.aclose()


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
        return as_model(ChatReply, await self._b.request("POST", f"{API}/chat", data=form))

    async def _events(self, path: str, **body: Any) -> AsyncIterator[ChatStreamEvent]:
        # The shared client (credentials, base URL). The answer's head must come within
        # the client's timeout; after it, the silence limit applies between any two
        # pieces of the body (the server's keep-alive comments count).
        client: httpx.AsyncClient = self._b.httpx_client
        base, limit, silence = self._b.base_url, self._b.timeout, self._b.stream_silence
        headers = {**self._b.credential_headers("any"), "Accept": "text/event-stream", "Cache-Control": "no-store"}
        request = client.build_request("POST", path, headers=headers, timeout=httpx.Timeout(limit, read=None), **body)
        pieces: list[str] = []
        answered = False  # the answer's status line and headers arrived

        def received() -> int:
            return sum(len(p) for p in pieces)

        try:
            async with asyncio.timeout(limit):
                response = await client.send(request, stream=True)
            answered = True
            try:
                if response.status_code >= 400 or "text/event-stream" not in response.headers.get("content-type", ""):
                    await asyncio.wait_for(response.aread(), limit)
                    if response.status_code >= 400:
                        raise self._b.error_for(response)
                    for event in _from_plain(self._b.decode(response)):
                        yield event
                    return
                source = EventSource(_UntilSilent(response, silence).response())
                async for sse in source.aiter_sse():
                    event = parse_event(sse)
                    if event is None:  # [DONE]
                        yield ChatStreamEvent(event="done", data={"content": "".join(pieces)})
                        return
                    if event.event == "token":
                        pieces.append(event.delta)
                    yield event
                    if event.event in ("done", "error"):
                        return  # the final event: nothing after it is read
            finally:
                await response.aclose()
        except TimeoutError:
            if not answered:
                raise Unavailable(f"cannot reach {base}: no answer within {limit:g} s") from None
            raise StreamIncomplete(received(), f"{base} sent nothing for {silence:g} s") from None
        except httpx.TransportError as exc:
            if not answered:
                raise Unavailable(f"cannot reach {base}: {transport_failure(exc)}") from None
            why = transport_failure(exc).split(" (", 1)[0]
            raise StreamIncomplete(received(), f"the stream from {base} broke off ({why})") from None
        raise StreamIncomplete(received(), f"the stream from {base} ended without its final event")

    async def stream(
        self, message: str, project_id: str | None = None, session_id: str | None = None, agent: str | None = None,
    ) -> AsyncIterator[ChatStreamEvent]:
        async for event in self._events(f"{API}/chat/stream", data=self._form(message, project_id, session_id, agent)):
            yield event

    async def cancel(self, id: str) -> ChatCancelResult:
        payload = await self._b.request("POST", f"{API}/chat/cancel", json=ChatCancel(id=id).model_dump())
        return as_model(ChatCancelResult, payload)

    async def external_chat(self, data: ChatRequest) -> ChatReply:
        payload = await self._b.request("POST", f"{API}/external/chat", json=data.model_dump(mode="json"))
        return as_model(ChatReply, payload)

    async def external_stream(self, data: ChatRequest) -> AsyncIterator[ChatStreamEvent]:
        async for event in self._events(f"{API}/external/chat/stream", json=data.model_dump(mode="json")):
            yield event

    async def orchestrator_status(self) -> OrchestratorStatus:
        return as_model(OrchestratorStatus, await self._b.request("GET", f"{API}/orchestrator/status"))
