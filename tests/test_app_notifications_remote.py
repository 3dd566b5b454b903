"""The unread badge in remote mode: polling with backoff when nothing changes and on
errors, an "offline" badge during an outage (never a modal), toasts for new ones —
against a scripted backend, and against a live server changed by another client."""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.screen import ModalScreen

import crewos_tui.unread_watch as watch
from crewos_tui.backend.errors import Unavailable
from crewos_tui.backend.schemas import (
    Notification,
    NotificationLink,
    NotificationPreferences,
    Page,
    ProjectCreate,
    UnreadCount,
)
from crewos_tui.backend.schemas.projects import ProjectRole
from crewos_tui.connect import Connection
from crewos_tui.launch import LaunchSpec

from .app_support import Notes, make_app
from .conftest import api_key_of, fast_settings, unique, user_factory

SPEC = LaunchSpec(profile="work", mode="remote", url="http://127.0.0.1:9", username="maya")


@pytest.fixture
def fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(watch, "POLL_MIN", 0.1)
    monkeypatch.setattr(watch, "POLL_IDLE_MAX", 0.8)
    monkeypatch.setattr(watch, "POLL_ERROR_MAX", 1.0)


async def until(pilot: Pilot[Any], predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await pilot.pause(0.02)


def note(id_: str, title: str) -> Notification:
    from datetime import UTC, datetime

    return Notification(id=id_, kind="project.member_added", title=title, body=f"{title}!",
                        link=NotificationLink(resource_type="project", resource_id="p", project_id="p"),
                        created_at=datetime(2026, 3, 2, tzinfo=UTC))


class ScriptedNotifications:
    """A server whose unread count the test sets, and which can go down."""

    def __init__(self) -> None:
        self.count = UnreadCount(unread=1, latest_id="01A")
        self.items = [note("01A", "First")]
        self.down = False
        self.calls: list[float] = []

    async def unread_count(self) -> UnreadCount:
        self.calls.append(time.monotonic())
        if self.down:
            raise Unavailable("cannot reach http://127.0.0.1:9: connection refused")
        return self.count

    async def list(self, limit: int = 50, cursor: str | None = None, unread: bool | None = None,
                   kind: str | None = None, project_id: str | None = None) -> Page[Notification]:
        return Page[Notification](items=self.items[:limit])

    async def get_preferences(self) -> NotificationPreferences:
        return NotificationPreferences(kinds=[], toasts=True)


class ScriptedRemote:
    mode = "remote"

    def __init__(self) -> None:
        self.notifications = ScriptedNotifications()
        self.auth = SimpleNamespace(me=self._me)
        self.projects = SimpleNamespace(list=self._no_projects)

    async def _me(self) -> Any:
        return SimpleNamespace(username="maya", role="member")

    async def _no_projects(self, **_kw: Any) -> Page[Any]:
        return Page[Any](items=[])

    async def close(self) -> None:
        return None


async def test_polls_back_off_when_idle_and_on_errors_and_an_outage_is_only_a_badge(fast_polls: None) -> None:
    remote = ScriptedRemote()

    async def opener(_spec: LaunchSpec) -> Connection:
        return Connection(remote, key_source="env")  # type: ignore[arg-type]

    app = make_app(SPEC, opener=opener)
    notes = Notes(app)
    async with app.run_test(size=(80, 24)) as pilot:
        w = app.unread_watcher
        await until(pilot, lambda: app.session.unread == 1)
        # Nothing changes: the interval doubles up to the idle maximum.
        await until(pilot, lambda: w.interval == watch.POLL_IDLE_MAX)
        calls = remote.notifications.calls
        polled = len(calls)
        await until(pilot, lambda: len(calls) >= polled + 2)
        gaps = [b - a for a, b in itertools.pairwise(calls)]
        assert gaps[-1] >= 0.9 * watch.POLL_IDLE_MAX and gaps[-1] > 1.8 * min(gaps), gaps
        assert notes.items == []  # the backlog at start is not toasted

        # A new one arrives: the badge follows, a toast shows it, polling is quick again.
        remote.notifications.items = [note("01B", "Second"), note("01A", "First")]
        remote.notifications.count = UnreadCount(unread=2, latest_id="01B")
        await until(pilot, lambda: app.session.unread == 2)
        assert w.interval == watch.POLL_MIN
        await until(pilot, lambda: ("information", "Second!") in list(notes))
        assert not any("First" in m for _, m in notes)

        # The server goes away: "offline", no modal, no error toast, slower and slower polls.
        remote.notifications.down = True
        await until(pilot, lambda: app.session.health == "offline")
        await until(pilot, lambda: w.interval == watch.POLL_ERROR_MAX)
        assert w.failures >= 3
        assert not any(isinstance(s, ModalScreen) for s in app.screen_stack)
        assert notes.errors() == [] and app.session.unread == 2  # the last count stays shown

        remote.notifications.down = False
        await until(pilot, lambda: app.session.health == "online")
        assert w.failures == 0 and "✉ 2" in str(app.screen.query_one("#status-bar").render())


# ---- against a live server -------------------------------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from .contract.conftest import LiveServer

    server = LiveServer(tmp_path_factory.mktemp("served-notifications") / "crewos.db")
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def setup(served: Any) -> AsyncIterator[Any]:
    from crewos_tui.backend.local.services import Services

    svc = await Services.open(served.db_path, settings=fast_settings())
    try:
        yield svc
    finally:
        await svc.close()


async def test_the_badge_and_the_open_screen_follow_another_clients_change(
        fast_polls: None, served: Any, setup: Any) -> None:
    from crewos_tui.backend.remote import RemoteBackend
    from crewos_tui.screens.notifications import NotificationsScreen

    make = user_factory(setup)
    me, _ = await make()
    owner, _ = await make()
    my_key, owner_key = await api_key_of(setup, me), await api_key_of(setup, owner)

    async def opener(_spec: LaunchSpec) -> Connection:
        return Connection(RemoteBackend(served.url, my_key), key_source="env")

    other = RemoteBackend(served.url, owner_key)  # another client of the same server
    app = make_app(replace(SPEC, url=served.url, username=me.username), opener=opener)
    notes = Notes(app)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: app.session is not None and app.session.unread == 0)
            await pilot.press("5")
            await until(pilot, lambda: isinstance(app.screen, NotificationsScreen))
            project = await other.projects.create(ProjectCreate(name=unique("Served ")))
            await other.projects.upsert_member(project.id, me.id, ProjectRole.editor)
            await until(pilot, lambda: app.session.unread == 1)
            screen = app.screen
            assert isinstance(screen, NotificationsScreen)
            await until(pilot, lambda: [n.title for n in screen.table.items] == [f"Added to {project.name}"])
            # The toast follows the badge: it needs one more request (the toast preference).
            await until(pilot, lambda: any(m == f"{owner.username} added you as editor." for _, m in notes))
    finally:
        await other.close()


def test_scripted_backend_matches_the_protocol() -> None:
    # The scripted double must not drift from the interface the watcher relies on.
    from crewos_tui.backend.protocol import NotificationsAPI

    for name in ("unread_count", "list", "get_preferences"):
        assert hasattr(NotificationsAPI, name) and hasattr(ScriptedNotifications, name)
