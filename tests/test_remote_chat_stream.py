"""The remote chat stream reader is tolerant of how a CrewOS server streams."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from crewos_tui.backend import errors
from crewos_tui.backend.remote import RemoteBackend
from crewos_tui.backend.schemas import AgentCard


def backend(handler) -> RemoteBackend:
    return RemoteBackend("http://crewos.test", "crewos_key", transport=httpx.MockTransport(handler), max_tries=1)


def sse(*events: tuple[str | None, str]) -> httpx.Response:
    body = "".join((f"event: {name}\n" if name else "") + f"data: {data}\n\n" for name, data in events)
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body.encode())


async def collect(b: RemoteBackend) -> list:
    try:
        return [e async for e in b.chat.stream("hi")]
    finally:
        await b.close()


async def test_our_own_shape_and_the_request():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return sse(("start", json.dumps({"session_id": "s1", "message_id": "m1"})),
                   ("token", json.dumps({"delta": "Hel"})), ("token", json.dumps({"delta": "lo"})),
                   ("done", json.dumps({"content": "Hello", "status": "complete"})))

    events = await collect(backend(handler))
    assert [e.event for e in events] == ["start", "token", "token", "done"]
    assert "".join(e.delta for e in events) == "Hello" and events[0].data["session_id"] == "s1"
    req = seen[0]
    assert req.url.path == "/api/v1/chat/stream" and req.headers["x-crewos-api-key"] == "crewos_key"
    assert req.headers["accept"] == "text/event-stream" and b"message=hi" in req.content


@pytest.mark.parametrize("key", ["delta", "token", "content", "text"])
async def test_token_fields_are_accepted_under_any_name(key):
    events = await collect(backend(lambda r: sse(("token", json.dumps({key: "abc"})), ("done", "{}"))))
    assert events[0].event == "token" and events[0].delta == "abc"


async def test_openai_style_chunks_and_done_marker():
    def chunk(t):
        return json.dumps({"choices": [{"delta": {"content": t}}]})

    events = await collect(backend(lambda r: sse((None, chunk("a")), (None, chunk("b")), (None, "[DONE]"),
                                                 (None, chunk("never")))))
    assert [e.event for e in events] == ["token", "token", "done"]  # done made from the pieces
    assert events[-1].data["content"] == "ab"


async def test_plain_json_answer_when_the_server_does_not_stream():
    answer = {"session_id": "s", "message_id": "m", "content": "whole answer", "agent": "reporter"}
    events = await collect(backend(lambda r: httpx.Response(200, json=answer)))
    assert [e.event for e in events] == ["start", "token", "done"]
    assert events[1].delta == "whole answer" and events[2].data["agent"] == "reporter"


async def test_errors_before_the_stream_and_inside_it():
    b = backend(lambda r: httpx.Response(404, json={"detail": "session s not found"}))
    with pytest.raises(errors.NotFound, match="session s not found"):
        await collect(b)
    events = await collect(backend(lambda r: sse(("error", json.dumps({"code": 429, "message": "over budget"})))))
    assert events[0].event == "error" and events[0].data == {"code": 429, "message": "over budget"}


async def test_a_broken_connection_is_unavailable():
    def handler(request):
        raise httpx.ConnectError("refused")

    with pytest.raises(errors.Unavailable):
        await collect(backend(handler))


def test_agent_card_reads_a2a_v1_shape():
    card = AgentCard.model_validate({
        "name": "Other", "skills": [{"id": "s1", "name": "Skill one"}],
        "supportedInterfaces": [{"url": "https://agents.example/a2a", "protocolBinding": "JSONRPC",
                                 "protocolVersion": "1.0"}],
        "capabilities": {"streaming": True}, "somethingNew": 1,
    })
    assert card.url == "https://agents.example/a2a" and card.protocol_version == "1.0" and card.streaming
    assert [(s.id, s.name) for s in card.skills] == [("s1", "Skill one")]
    minimal = AgentCard.model_validate({"name": "Bare", "skills": []})
    assert minimal.url is None and not minimal.streaming
    dumped = AgentCard(name="X", protocol_version="0.3.0").model_dump()
    assert dumped["protocolVersion"] == "0.3.0" and "defaultInputModes" in dumped


# ---- a stream must end with its final event --------------------------------------------------


async def test_a_stream_without_its_final_event_is_incomplete_not_done():
    b = backend(lambda r: sse(("start", "{}"), ("token", json.dumps({"delta": "Hello, "})),
                              ("token", json.dumps({"delta": "wor"}))))
    seen = []
    with pytest.raises(errors.StreamIncomplete) as caught:
        async for event in b.chat.stream("hi"):
            seen.append(event)
    await b.close()
    assert [e.event for e in seen] == ["start", "token", "token"] and caught.value.chars == 10
    assert str(caught.value) == ("the stream from http://crewos.test ended without its final event: "
                                 "the reply is incomplete — 10 characters arrived")


async def test_a_final_event_cut_in_the_middle_is_not_taken_for_one():
    body = 'event: token\ndata: {"delta": "abc"}\n\nevent: done\ndata: {"content": "ab'
    b = backend(lambda r: httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body.encode()))
    with pytest.raises(errors.StreamIncomplete, match="3 characters arrived"):
        await collect(b)


async def test_nothing_after_the_final_event_is_read():
    events = await collect(backend(lambda r: sse(("token", json.dumps({"delta": "a"})), ("done", "{}"),
                                                 ("token", json.dumps({"delta": "late"})))))
    assert [e.event for e in events] == ["token", "done"]


async def test_an_html_page_instead_of_the_stream_names_the_server():
    page = b"<!doctype html><html><body>Please sign in to the captive portal</body></html>"
    b = backend(lambda r: httpx.Response(200, headers={"content-type": "text/html"}, content=page))
    with pytest.raises(errors.Unavailable) as caught:
        await collect(b)
    assert str(caught.value) == "the server at http://crewos.test answered 200 (not a CrewOS answer)"
    b = backend(lambda r: httpx.Response(502, headers={"content-type": "text/html"}, content=page))
    with pytest.raises(errors.Unavailable, match=r"answered 502 \(not a CrewOS answer\)$"):
        await collect(b)


class StallingBody(httpx.AsyncByteStream):
    """One token, then nothing at all: a server (or a proxy) that went quiet."""

    async def __aiter__(self):
        yield b'event: start\ndata: {}\n\nevent: token\ndata: {"delta": "half a rep"}\n\n'
        await asyncio.Event().wait()


async def test_a_silent_stream_is_given_up_at_the_silence_limit_from_the_environment(monkeypatch):
    monkeypatch.setenv("CREWOS_TUI_STREAM_SILENCE", "0.2")
    b = backend(lambda r: httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=StallingBody()))
    assert b.stream_silence == 0.2
    with pytest.raises(errors.StreamIncomplete) as caught:
        await collect(b)
    assert str(caught.value) == ("http://crewos.test sent nothing for 0.2 s: "
                                 "the reply is incomplete — 10 characters arrived")
    monkeypatch.setenv("CREWOS_TUI_STREAM_SILENCE", "soon")
    other = RemoteBackend("http://crewos.test")
    assert other.stream_silence == 30.0
    await other.close()
