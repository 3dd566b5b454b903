"""The remote client and the TUI against a real server behind a fault proxy on 127.0.0.1
(``tests/fault_proxy.py``): refused and reset connections, stalls, 5xx with JSON, HTML
pages, 429 with Retry-After, cut, truncated and stalled streams, lost answers. Each test
checks what the user is told, how many requests reached the server, and that the next
call works once the fault is gone."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual.pilot import Pilot

from crewos_tui.backend import errors
from crewos_tui.backend.remote import RemoteBackend
from crewos_tui.backend.schemas import ChatStreamEvent, Deleted, ProjectCreate, TaskCreate
from crewos_tui.backend.schemas.projects import ProjectRole
from crewos_tui.backend.server.routes import chat as chat_routes
from crewos_tui.connect import Connection
from crewos_tui.launch import LaunchSpec

from .app_support import Notes, make_app, settle
from .conftest import api_key_of, fast_settings, unique, user_factory
from .fault_proxy import FaultProxy

STREAM = "/api/v1/chat/stream"
QUESTION = "What is waiting for me?"
#: Client limits for these tests: small, so a stall costs a second or two, not half a minute.
TIMEOUT, SILENCE = 5.0, 1.5


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from .contract.conftest import LiveServer

    server = LiveServer(tmp_path_factory.mktemp("served-faults") / "crewos.db")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def proxy(served: Any) -> Any:
    fault_proxy = FaultProxy(served.port).start()
    yield fault_proxy
    fault_proxy.stop()
    if report := os.environ.get("CREWOS_FAULT_COUNTS"):  # per mode: [seen, reached the server]
        Path(report).write_text(json.dumps(fault_proxy.totals(), indent=1))


@pytest.fixture(autouse=True)
def no_faults(proxy: FaultProxy) -> Any:
    proxy.clear()
    proxy.forget()
    yield
    proxy.clear()


@pytest.fixture
async def setup(served: Any) -> AsyncIterator[Any]:
    """A second service layer on the served file (users, keys, and looking at what is stored)."""
    from crewos_tui.backend.local.services import Services

    svc = await Services.open(served.db_path, settings=fast_settings())
    try:
        yield svc
    finally:
        await svc.close()


@pytest.fixture
async def me(setup: Any) -> Any:
    user, _ = await user_factory(setup)()
    return user


@pytest.fixture
async def key(setup: Any, me: Any) -> str:
    return await api_key_of(setup, me)


def client(proxy: FaultProxy, key: str, **kw: Any) -> RemoteBackend:
    kw = {"timeout": TIMEOUT, "stream_silence": SILENCE, "backoff": 0.01, "max_retry_after": 0.3, **kw}
    return RemoteBackend(proxy.url, key, **kw)


@pytest.fixture
async def remote(proxy: FaultProxy, key: str) -> AsyncIterator[RemoteBackend]:
    backend = client(proxy, key)
    try:
        yield backend
    finally:
        await backend.close()


async def eventually(check: Callable[[], Any], what: str, within: float = 20.0) -> Any:
    """Poll ``check`` (an async callable) until it answers something true: the server
    records the end of a cut run on its own loop, a moment after the client gave up."""
    deadline = time.monotonic() + within
    while not (result := await check()):
        assert time.monotonic() < deadline, f"{what}: not reached in {within} s"
        await asyncio.sleep(0.05)
    return result


async def stored_reply(setup: Any, me: Any, session_id: str, index: int = -1) -> Any:
    principal = await setup.auth.principal_for(me.username)

    async def final() -> Any:
        reply = (await setup.sessions.get(principal, session_id)).messages[index]
        return reply if reply.status not in ("streaming", "queued") else None

    return await eventually(final, "the server records the reply's end")


# ---- requests -----------------------------------------------------------------------------


async def test_a_refused_port_is_unavailable_then_the_next_call_works(proxy: FaultProxy,
                                                                      remote: RemoteBackend) -> None:
    proxy.fault("refuse")
    with pytest.raises(errors.Unavailable, match=f"^cannot reach {proxy.url}: "):
        await remote.projects.list()
    assert proxy.reached() == 0
    proxy.clear()
    assert (await remote.projects.list()).items == []
    assert proxy.reached(method="GET", path="/api/v1/projects") == 1


async def test_resets_and_stalls_are_retried_for_reads_and_for_creates_with_their_key(
        proxy: FaultProxy, remote: RemoteBackend) -> None:
    proxy.fault("reset", method="GET", times=2)
    assert (await remote.projects.list()).items == []  # the third try gets through
    assert proxy.seen("reset") == 2 and proxy.reached("off", "GET") == 1

    # A create carries an Idempotency-Key and this server keeps keys (it said so on the
    # answers above), so a reset create is sent again, with the same key, up to max_tries.
    proxy.fault("reset", method="POST")
    with pytest.raises(errors.Unavailable, match=f"^cannot reach {proxy.url}: "):
        await remote.projects.create(ProjectCreate(name=unique("Reset ")))
    assert proxy.seen("reset", "POST") == remote.max_tries and proxy.reached(method="POST") == 0

    proxy.clear()
    proxy.fault("stall", method="GET")
    impatient = client(proxy, remote.api_key or "", timeout=0.5, max_tries=2)
    try:
        with pytest.raises(errors.Unavailable, match=f"^cannot reach {proxy.url}: no answer within 0.5 s$"):
            await impatient.projects.list()
        assert proxy.seen("stall") == 2 and proxy.reached("stall") == 0
        proxy.clear()
        assert (await impatient.projects.list()).items == []
    finally:
        await impatient.close()


async def test_a_5xx_with_json_shows_its_detail_reads_retry_and_writes_do_not(
        proxy: FaultProxy, remote: RemoteBackend) -> None:
    proxy.fault("error", status=503, method="GET", times=1)
    assert (await remote.projects.list()).items == []
    assert proxy.seen("error") == 1 and proxy.reached("off", "GET") == 1

    proxy.fault("error", status=500, method="POST", detail="the database is being restored")
    with pytest.raises(errors.Unavailable, match=r"^the database is being restored$"):
        await remote.projects.create(ProjectCreate(name=unique("Busy ")))
    assert proxy.seen("error", "POST") == 1 and proxy.reached(method="POST") == 0


@pytest.mark.parametrize(("status", "cls", "tries"), [(502, errors.Unavailable, 3), (404, errors.NotFound, 1)])
async def test_an_html_error_page_names_the_server_and_the_status(
        proxy: FaultProxy, remote: RemoteBackend, status: int, cls: type[Exception], tries: int) -> None:
    proxy.fault("html", status=status, method="GET")
    with pytest.raises(cls) as caught:
        await remote.projects.list()
    assert str(caught.value) == f"the server at {proxy.url} answered {status} (not a CrewOS answer)"
    assert proxy.seen("html") == tries and proxy.reached() == 0  # a 502 is worth retrying, a 404 is not
    proxy.clear()
    assert (await remote.projects.list()).items == []


async def test_429_is_retried_after_its_retry_after_then_given_up_with_the_wait(
        proxy: FaultProxy, remote: RemoteBackend) -> None:
    proxy.fault("429", retry_after=1, method="GET", times=1)
    assert (await remote.projects.list()).items == []
    assert proxy.seen("429") == 1 and proxy.reached("off") == 1

    proxy.fault("429", retry_after=7, method="GET")
    with pytest.raises(errors.RateLimited, match="too many requests") as caught:
        await remote.projects.list()
    assert caught.value.retry_after == 7 and proxy.seen("429") == 4 and proxy.reached("429") == 0


async def test_a_truncated_answer_to_a_read_is_retried(proxy: FaultProxy, remote: RemoteBackend) -> None:
    proxy.fault("truncate", after=10, method="GET", times=1)
    assert (await remote.projects.list()).items == []
    assert proxy.reached("truncate") == 1 and proxy.reached("off") == 1


async def test_a_delete_whose_answer_was_lost_is_retried_and_reported_done(
        proxy: FaultProxy, remote: RemoteBackend, setup: Any, me: Any) -> None:
    project = await remote.projects.create(ProjectCreate(name=unique("Lost ")))
    task = await remote.tasks.create(TaskCreate(project_id=project.id, title="Delete me"))
    proxy.fault("lost", method="DELETE", times=1)
    assert await remote.tasks.delete(task.id) == Deleted(id=task.id)
    path = f"/api/v1/tasks/{task.id}"
    assert proxy.reached("lost", "DELETE", path) == 1 and proxy.reached("off", "DELETE", path) == 1
    with pytest.raises(errors.NotFound):  # it is gone on the server
        await setup.tasks.get(await setup.auth.principal_for(me.username), task.id)
    # Without a lost answer, deleting what is not there is still "not found".
    with pytest.raises(errors.NotFound, match=f"task {task.id} not found"):
        await remote.tasks.delete(task.id)
    assert proxy.reached(method="DELETE", path=path) == 3


async def test_a_post_whose_answer_was_lost_is_not_sent_again(
        proxy: FaultProxy, remote: RemoteBackend, setup: Any, me: Any) -> None:
    project = await remote.projects.create(ProjectCreate(name=unique("Once ")))
    task = await remote.tasks.create(TaskCreate(project_id=project.id, title="Start me once"))
    proxy.fault("lost", method="POST", path=f"/api/v1/tasks/{task.id}/status")
    with pytest.raises(errors.Unavailable, match=f"^cannot reach {proxy.url}: Server disconnected"):
        await remote.tasks.set_status(task.id, "in_progress")
    assert proxy.reached("lost", "POST") == 1  # a retry could do it twice: it is left to the user
    detail = await setup.tasks.get(await setup.auth.principal_for(me.username), task.id)
    assert detail.status == "in_progress"  # the server did it; only the answer was lost
    proxy.clear()
    assert (await remote.tasks.get(task.id)).status == "in_progress"


# ---- streams --------------------------------------------------------------------------------


async def consume(backend: RemoteBackend, message: str = QUESTION) -> tuple[list[ChatStreamEvent], Exception | None]:
    events: list[ChatStreamEvent] = []
    try:
        async for event in backend.chat.stream(message):
            events.append(event)
    except errors.CrewOSError as exc:
        return events, exc
    return events, None


def arrived(events: list[ChatStreamEvent]) -> int:
    return sum(len(e.delta) for e in events if e.event == "token")


@pytest.mark.parametrize(("mode", "why", "stored"), [
    ("cut", "the stream from {url} ended without its final event", "cancelled"),
    ("truncate", "the stream from {url} broke off (peer closed connection without sending complete message body)",
     "cancelled"),
    ("stall_stream", "{url} sent nothing for 1.5 s", None),
])
async def test_a_stream_that_ends_early_is_an_error_with_what_arrived(
        proxy: FaultProxy, remote: RemoteBackend, setup: Any, me: Any, mode: str, why: str,
        stored: str | None) -> None:
    whole, failure = await consume(remote)
    assert failure is None and whole[-1].event == "done"
    full = len(whole[-1].data["content"])

    proxy.fault(mode, path=STREAM, after=600, times=1)
    events, failure = await consume(remote)
    assert isinstance(failure, errors.StreamIncomplete), failure
    n = arrived(events)
    assert 0 < n < full and failure.chars == n and "done" not in [e.event for e in events]
    assert str(failure) == why.format(url=proxy.url) + f": the reply is incomplete — {n} characters arrived"
    assert proxy.reached(mode, "POST", STREAM) == 1
    reply = await stored_reply(setup, me, events[0].data["session_id"])
    # A cut or broken connection reaches the server, which keeps the part it made as
    # cancelled; behind a silent proxy it cannot tell and finishes the reply.
    assert reply.status == (stored or "complete")
    assert (await consume(remote))[1] is None  # the next stream is whole


async def test_an_html_answer_on_the_stream_is_a_clear_error(proxy: FaultProxy, remote: RemoteBackend) -> None:
    proxy.fault("html", status=200, path=STREAM)
    events, failure = await consume(remote)
    assert events == [] and isinstance(failure, errors.Unavailable)
    assert str(failure) == f"the server at {proxy.url} answered 200 (not a CrewOS answer)"
    proxy.clear()
    proxy.fault("html", status=502, path="/api/v1/chat")
    assert str((await consume(remote))[1]) == f"the server at {proxy.url} answered 502 (not a CrewOS answer)"


async def test_keep_alive_comments_carry_a_slow_reply_past_the_silence_limit(
        proxy: FaultProxy, served: Any, key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = served.services.ctx.settings
    monkeypatch.setattr(settings, "stream_chunk_delay", 0.9)  # a slow model: 0.9 s between pieces
    monkeypatch.setattr(chat_routes, "KEEPALIVE_SECONDS", 0.1)
    backend = client(proxy, key, stream_silence=0.5)
    try:
        tokens: list[str] = []
        async with asyncio.timeout(30):
            async for event in backend.chat.stream(QUESTION):
                if event.event == "token":
                    tokens.append(event.delta)
                if len(tokens) == 3:  # two gaps longer than the limit: enough
                    break
        assert len(tokens) == 3
        # What the server sent meanwhile: comments, which no SSE reader takes for an event.
        headers = {"X-CrewOS-API-Key": key, "Accept": "text/event-stream"}
        async with httpx.AsyncClient(base_url=proxy.url, timeout=10) as raw, \
                raw.stream("POST", STREAM, data={"message": QUESTION}, headers=headers) as response:
            lines: list[str] = []
            async for line in response.aiter_lines():
                lines.append(line)
                if lines.count("event: token") == 2:  # the second piece comes after a pause
                    break
        first, second = (i for i, line in enumerate(lines) if line == "event: token")
        assert ": keep-alive" in lines[first:second]

        # Without keep-alives the same reply is given up at the silence limit.
        monkeypatch.setattr(chat_routes, "KEEPALIVE_SECONDS", 30.0)
        _, failure = await consume(backend)
        assert isinstance(failure, errors.StreamIncomplete) and "sent nothing for 0.5 s" in str(failure)
    finally:
        await backend.close()


# ---- the TUI ------------------------------------------------------------------------------------


def remote_app(proxy: FaultProxy, key: str, username: str, **kw: Any) -> Any:
    async def opener(_spec: LaunchSpec) -> Connection:
        return Connection(client(proxy, key, **kw), key_source="env")

    spec = LaunchSpec(profile="work", mode="remote", url=proxy.url, username=username)
    return make_app(spec, opener=opener)


async def until(pilot: Pilot[Any], predicate: Callable[[], bool], within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await pilot.pause(0.02)


def headers(screen: Any) -> list[str]:
    from crewos_tui.widgets.chat_log import MessageLog

    return [str(v.query_one(".message-header").render()) for v in screen.query_one(MessageLog).views]


async def send(pilot: Pilot[Any], screen: Any, text: str) -> None:
    from crewos_tui.widgets.chat_log import ChatInput

    screen.query_one(ChatInput).focus()
    screen.query_one(ChatInput).insert(text)
    await pilot.press("enter")
    await settle(pilot)  # the reply's worker has finished, whichever way
    assert not screen.streaming


@pytest.mark.app  # Pilot, as in tests/test_app_*.py
async def test_tui_a_cut_reply_says_incomplete_and_ctrl_e_sends_it_again(
        proxy: FaultProxy, key: str, me: Any, setup: Any) -> None:
    from crewos_tui.screens.chat import ChatScreen

    app = remote_app(proxy, key, me.username)
    notes = Notes(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ChatScreen)
        proxy.fault("cut", path=STREAM, after=600, times=1)
        await send(pilot, screen, QUESTION)

        assert screen.stream is None and screen.retry_text == QUESTION
        shown = headers(screen)
        n = int(shown[-1].split("incomplete — ")[1].split(" ")[0])
        assert shown[-1].endswith(f"incomplete — {n} characters arrived · ^e sends it again") and n > 0
        assert not any("answering" in h for h in shown)
        assert notes.errors() == [f"the stream from {proxy.url} ended without its final event: "
                                  f"the reply is incomplete — {n} characters arrived"]
        assert screen.check_action("retry", ()) is True and app.focused is screen.message_log

        await pilot.press("ctrl+e")  # the proxy lets it through this time
        await settle(pilot)
        assert screen.retry_text is None and screen.check_action("retry", ()) is False
        assert proxy.reached("cut", "POST", STREAM) == 1 and proxy.reached("off", "POST", STREAM) == 1
        detail = await setup.sessions.get(await setup.auth.principal_for(me.username), screen.session_id)
        assert [(m.role, m.content) for m in detail.messages if m.role == "user"] == [("user", QUESTION)] * 2
        assert [m.status for m in detail.messages if m.role == "assistant"] == ["cancelled", "complete"]
        shown = headers(screen)
        assert "cancelled" in shown[1] and not any("answering" in h or "incomplete" in h for h in shown)


@pytest.mark.app  # Pilot, as in tests/test_app_*.py
async def test_tui_a_stalled_reply_ends_the_indicator_and_a_stale_one_is_not_answering(
        proxy: FaultProxy, key: str, me: Any, setup: Any) -> None:
    from sqlalchemy import update

    from crewos_tui.backend.local.tables import ChatMessageRow
    from crewos_tui.screens.chat import ChatScreen

    app = remote_app(proxy, key, me.username)
    notes = Notes(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ChatScreen)
        proxy.fault("stall_stream", path=STREAM, after=600, times=1)
        await send(pilot, screen, QUESTION)
        shown = headers(screen)
        assert "incomplete — " in shown[-1] and not any("answering" in h for h in shown)
        assert notes.errors()[-1].startswith(f"{proxy.url} sent nothing for {SILENCE:g} s: the reply is incomplete")

        # Reopened, the reply shows what the server stored; one stored as still answering
        # whose run is not active (its process went away) says it is not running.
        session_id = screen.session_id
        reply = await stored_reply(setup, me, session_id)
        async with setup.ctx.db.transaction() as s:
            await s.execute(update(ChatMessageRow).where(ChatMessageRow.id == reply.id).values(status="streaming"))
        screen.open_session(session_id)
        await settle(pilot)
        shown = headers(screen)
        assert " · not running" in shown[-1] and not any("answering" in h for h in shown)


@pytest.mark.app  # Pilot, as in tests/test_app_*.py
async def test_tui_an_html_502_is_one_line_and_a_reload_recovers(
        proxy: FaultProxy, key: str, me: Any, setup: Any) -> None:
    from crewos_tui.screens.projects import ProjectsScreen

    app = remote_app(proxy, key, me.username)
    notes = Notes(app)
    proxy.fault("html", status=502, method="GET", path="/api/v1/projects")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ProjectsScreen)
        message = f"the server at {proxy.url} answered 502 (not a CrewOS answer)"
        assert message in notes.errors() and all("<html" not in m for m in notes.errors())
        assert proxy.reached(path="/api/v1/projects") == 0

        name = unique("Back ")
        await setup.projects.create(await setup.auth.principal_for(me.username), ProjectCreate(name=name))
        proxy.clear()
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert [p.name for p in screen.project_table.items] == [name]


@pytest.mark.app  # Pilot, as in tests/test_app_*.py
async def test_tui_removing_a_member_whose_answer_was_lost_says_removed(
        proxy: FaultProxy, key: str, me: Any, setup: Any) -> None:
    from crewos_tui.screens.projects import ProjectsScreen

    owner = await setup.auth.principal_for(me.username)
    project = await setup.projects.create(owner, ProjectCreate(name=unique("Team ")))
    other, _ = await user_factory(setup)()
    await setup.projects.upsert_member(owner, project.id, other.id, ProjectRole.editor)

    app = remote_app(proxy, key, me.username)
    notes = Notes(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ProjectsScreen)
        assert screen.project_table.select_key(project.id)
        await settle(pilot)
        screen.detail.activate("members")
        await settle(pilot)
        table = screen.detail.tables["members"]
        assert table.select_key(table._row_key(next(m for m in table.items if m.user_id == other.id)))  # pyright: ignore[reportPrivateUsage]
        await pilot.pause()
        proxy.fault("lost", method="DELETE", times=1)
        await pilot.press("d", "y")
        await settle(pilot)
        assert f"Removed {other.username} from {project.name}." in [m for _, m in notes]
        assert notes.errors() == []
        assert proxy.reached(method="DELETE") == 2  # the lost one did it; the retry found it gone
        members = await setup.projects.list_members(owner, project.id)
        assert other.id not in [m.user_id for m in members.items]
