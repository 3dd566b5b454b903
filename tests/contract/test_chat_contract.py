"""Chat and agent runs, on both backends: send, stream (SSE through the real server
on the remote world), cancel, drop, external endpoints, durable runs, orchestrator."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from crewos_tui.backend import errors
from crewos_tui.backend.schemas import ChatRequest, ChatSessionCreate, ProjectCreate

from ..conftest import unique

#: Users of these tests live in their own team, so they do not crowd other tests' team lists
#: on the shared live server.
TEAM = "chat"


async def member_with_project(world):
    user = await world.user(team=TEAM)
    b = await world.as_(user)
    project = await b.projects.create(ProjectCreate(name=unique("Chat "), description="Ship the thing."))
    await b.projects.upload_document(project.id, "notes.md", b"# Notes\n\nSome notes.\n", folder_path="docs")
    return user, b, project


async def stored_reply(world, session_id: str, message_id: str, user):
    """The assistant message as the database has it (through the setup service layer)."""
    principal = await world.services.auth.principal_for(user.username)
    detail = await world.services.sessions.get(principal, session_id)
    return next(m for m in detail.messages if m.id == message_id)


async def wait_for_status(world, user, session_id, message_id, statuses, timeout=20.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        msg = await stored_reply(world, session_id, message_id, user)
        if msg.status in statuses or asyncio.get_running_loop().time() > deadline:
            return msg
        await asyncio.sleep(0.05)


async def test_send_starts_a_session_and_answers_from_project_data(world):
    _user, b, project = await member_with_project(world)
    reply = await b.chat.send("Prepare the project update", project_id=project.id)
    assert reply.status == "complete" and reply.agent == "reporter" and reply.model == "builtin"
    assert reply.content.startswith(f"# Project update: {project.name}")
    assert "docs/notes.md" in reply.content
    assert reply.usage.tokens_in == 5 and reply.usage.tokens_out > 20  # 4 words x 4/3, rounded
    session = await b.sessions.get(reply.session_id)
    assert session.project_id == project.id and session.title == "Prepare the project update"
    assert [(m.role, m.status) for m in session.messages] == [("user", "complete"), ("assistant", "complete")]
    assert session.messages[1].content == reply.content and session.messages[1].id == reply.message_id
    # The same data gives the same words, in the same session.
    again = await b.chat.send("Prepare the project update", session_id=reply.session_id)
    assert again.session_id == reply.session_id and again.content == reply.content


async def test_routing_by_rule_and_by_explicit_agent(world):
    _, b, project = await member_with_project(world)
    assert (await b.chat.send("Plan the beta launch", project_id=project.id)).agent == "planner"
    assert (await b.chat.send("hello there")).agent == "helper"
    planned = await b.chat.send("anything at all", agent="planner", project_id=project.id)
    assert planned.agent == "planner" and len(planned.data["proposal"]["tasks"]) == 4
    assert planned.data["proposal"]["project_id"] == project.id


async def test_bad_input(world):
    _user, b, _project = await member_with_project(world)
    with pytest.raises(errors.Invalid, match="empty"):
        await b.chat.send("   ")
    with pytest.raises(errors.PayloadTooLarge):
        await b.chat.send("x" * 20_001)
    with pytest.raises(errors.NotFound, match="session"):
        await b.chat.send("hi", session_id="01ARZ3NDEKTSV4RRFFQ69G5FAV")
    with pytest.raises(errors.NotFound, match="project"):
        await b.chat.send("hi", project_id="01ARZ3NDEKTSV4RRFFQ69G5FAV")
    with pytest.raises(errors.NotFound, match="agent"):
        await b.chat.send("hi", agent="oracle")
    # Nothing was written by the refused calls.
    assert (await b.sessions.list()).items == []
    # Another user's session is invisible.
    mine = await b.chat.send("hello")
    other = await world.as_(await world.user(team=TEAM))
    with pytest.raises(errors.NotFound):
        await other.chat.send("hi", session_id=mine.session_id)
    # A closed session takes no new messages.
    await b.sessions.close(mine.session_id)
    with pytest.raises(errors.Conflict, match="closed"):
        await b.chat.send("more", session_id=mine.session_id)


async def test_stream_start_tokens_done(world):
    user, b, project = await member_with_project(world)
    session = await b.sessions.create(ChatSessionCreate(title="streaming", project_id=project.id))
    events = [e async for e in b.chat.stream("what is waiting for me?", session_id=session.id)]
    kinds = [e.event for e in events]
    assert kinds[0] == "start" and kinds[-1] == "done" and kinds.count("token") >= 5
    assert set(kinds) == {"start", "token", "done"}
    start, done = events[0].data, events[-1].data
    assert start["session_id"] == session.id and start["agent"] == "helper"
    streamed = "".join(e.delta for e in events if e.event == "token")
    assert done["content"] == streamed and done["status"] == "complete"
    assert done["usage"]["tokens_out"] > 0
    stored = await stored_reply(world, session.id, start["message_id"], user)
    assert stored.content == streamed and stored.status == "complete"


async def test_stream_errors_before_start_raise(world):
    _, b, _ = await member_with_project(world)
    with pytest.raises(errors.Invalid):
        async for _ in b.chat.stream(""):
            pass
    with pytest.raises(errors.NotFound):
        async for _ in b.chat.stream("hi", session_id="01ARZ3NDEKTSV4RRFFQ69G5FAV"):
            pass


async def test_cancel_mid_stream_keeps_the_partial_reply(world):
    user, b, project = await member_with_project(world)
    events = []
    async with contextlib.aclosing(b.chat.stream("what is waiting for me?", project_id=project.id)) as stream:
        async for event in stream:
            events.append(event)
            if event.event == "token" and sum(e.event == "token" for e in events) == 3:
                result = await b.chat.cancel(events[0].data["run_id"])
                assert result.cancelled and result.status == "cancelled"
    kinds = [e.event for e in events]
    assert kinds[-1] == "done" and events[-1].data["status"] == "cancelled"
    start = events[0].data
    stored = await stored_reply(world, start["session_id"], start["message_id"], user)
    assert stored.status == "cancelled" and stored.content == events[-1].data["content"]
    assert 0 < len(stored.content) < 400  # a few words, not the whole answer
    # Cancelling again: it has finished, nothing to stop.
    again = await b.chat.cancel(start["message_id"])
    assert not again.cancelled and again.status == "cancelled"
    # Someone else cannot see or cancel it.
    other = await world.as_(await world.user(team=TEAM))
    with pytest.raises(errors.NotFound):
        await other.chat.cancel(start["run_id"])


async def test_a_dropped_stream_stops_the_run_and_keeps_the_partial_reply(world):
    user, b, project = await member_with_project(world)
    stream = b.chat.stream("what is waiting for me?", project_id=project.id)
    start = await anext(stream)
    await anext(stream)  # one token
    await stream.aclose()  # the client goes away
    msg = await wait_for_status(world, user, start.data["session_id"], start.data["message_id"], {"cancelled"})
    assert msg.status == "cancelled" and 0 < len(msg.content) < 400


async def test_external_chat_and_stream(world):
    _, b, project = await member_with_project(world)
    reply = await b.chat.external_chat(ChatRequest(message="Prepare the project update", project_id=project.id))
    assert reply.agent == "reporter" and project.name in reply.content
    events = [e async for e in b.chat.external_stream(ChatRequest(message="plan: a; b", session_id=reply.session_id))]
    assert events[0].event == "start" and events[-1].event == "done"
    assert events[-1].data["agent"] == "planner" and events[0].data["session_id"] == reply.session_id


async def test_durable_chat_returns_a_job_id_and_the_reply_lands_in_the_session(world):
    user, b, project = await member_with_project(world)
    queued = await b.chat.send("Prepare the project update", project_id=project.id, durable=True)
    assert queued.status == "queued" and queued.job_id == queued.run_id and queued.content == ""
    msg = await wait_for_status(world, user, queued.session_id, queued.message_id, {"complete"})
    assert msg.status == "complete" and msg.content.startswith("# Project update")


async def test_orchestrator_status_shows_a_running_stream(world):
    _user, b, _project = await member_with_project(world)
    status = await b.chat.orchestrator_status()
    assert status.status == "ok" and status.mode == "builtin"
    assert {"helper", "planner", "reporter"} <= set(status.agents)
    async with contextlib.aclosing(b.chat.stream("what is waiting for me?")) as stream:
        start = await anext(stream)
        await anext(stream)
        running = await b.chat.orchestrator_status()
        assert start.data["run_id"] in [r.run_id for r in running.active_runs]
        assert running.running >= 1
        other = await world.as_(await world.user(team=TEAM))
        assert start.data["run_id"] not in [r.run_id for r in (await other.chat.orchestrator_status()).active_runs]
        await b.chat.cancel(start.data["run_id"])
