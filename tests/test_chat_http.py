"""Chat over HTTP details the Backend client does not exercise: the map's multipart
form (``curl -F``), the SSE wire format, and readable 4xx for bad input."""

from __future__ import annotations

import json

import httpx
import pytest

from crewos_tui.backend.server.app import create_app

from .conftest import api_key_of, user_factory


@pytest.fixture
async def client(services):
    services.ctx.settings.stream_chunk_delay = 0
    user, _ = await user_factory(services)()
    key = await api_key_of(services, user)
    app = create_app(services)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t",
                                 headers={"X-CrewOS-API-Key": key}) as c:
        yield c


async def test_chat_accepts_multipart_form_data_like_curl_F(client):
    # files= makes httpx send multipart/form-data, as `curl -F message=...` does.
    r = await client.post("/api/v1/chat", files={"message": (None, "Prepare the project update")})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["agent"] == "reporter" and body["status"] == "complete" and body["session_id"]
    assert r.request.headers["content-type"].startswith("multipart/form-data")


async def test_chat_stream_speaks_server_sent_events(client):
    async with client.stream("POST", "/api/v1/chat/stream", data={"message": "hello"}) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        raw = (await r.aread()).decode()
    blocks = [b for b in raw.split("\n\n") if b.strip()]
    names = [b.splitlines()[0].removeprefix("event: ") for b in blocks]
    assert names[0] == "start" and names[-1] == "done" and set(names) == {"start", "token", "done"}
    tokens = [json.loads(b.splitlines()[1].removeprefix("data: "))["delta"]
              for b in blocks if b.startswith("event: token")]
    done = json.loads(blocks[-1].splitlines()[1].removeprefix("data: "))
    assert "".join(tokens) == done["content"] and done["usage"]["tokens_out"] > 0


async def test_bad_chat_input_is_a_readable_4xx(client):
    missing = await client.post("/api/v1/chat", data={})
    assert missing.status_code == 422 and "message" in json.dumps(missing.json()["detail"])
    empty = await client.post("/api/v1/chat", data={"message": "  "})
    assert empty.status_code == 422 and empty.json()["detail"] == "the message is empty"
    huge = await client.post("/api/v1/chat/stream", data={"message": "x" * 20_001})
    assert huge.status_code == 413 and "limit" in huge.json()["detail"]
    unknown = await client.post("/api/v1/external/chat", json={"message": "hi", "agent": "oracle"})
    assert unknown.status_code == 404 and "oracle" in unknown.json()["detail"]
    extra = await client.post("/api/v1/external/chat", json={"message": "hi", "surprise": 1})
    assert extra.status_code == 422
    card = await client.get("/.well-known/agent-card.json", headers={"X-CrewOS-API-Key": ""})
    assert card.status_code == 200 and card.json()["capabilities"]["streaming"] is True
    assert card.json()["url"] == "http://t/api/v1" and "protocolVersion" in card.json()
