"""Screens recover by themselves after an outage: when the status bar goes from offline
back to online, the open screen fetches again what it shows (and the screens behind it
do when they are next shown), without a key; a remote board stops polling into the
outage and resumes after; a server that was down when the app started is found once it
is up. ``ctrl+r`` (the same full reload) is in every screen's footer and help.

Against a backend that fails like an unreachable server while the test says so (the
demo data behind it), and against a real server stopped and started again on its port."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Static

import crewos_tui.app_backend as app_backend
import crewos_tui.unread_watch as watch
from crewos_tui.backend.errors import Unavailable
from crewos_tui.backend.local.services import Services
from crewos_tui.backend.schemas import ProjectCreate
from crewos_tui.connect import Connection
from crewos_tui.connect import open_backend as open_real
from crewos_tui.launch import LaunchSpec
from crewos_tui.screens.base import BackendScreen
from crewos_tui.screens.board import BoardScreen
from crewos_tui.screens.gaps import GapsScreen
from crewos_tui.screens.help import HelpScreen, help_sections
from crewos_tui.screens.ledger import LedgerScreen
from crewos_tui.screens.projects import ProjectsScreen
from crewos_tui.screens.registry import MODES
from crewos_tui.screens.validations import ValidationsScreen

from .app_support import Notes, make_app, settle
from .conftest import api_key_of, fast_settings, principal_of, unique, user_factory

SIZE = (120, 40)


@pytest.fixture
def fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(watch, "POLL_MIN", 0.1)
    monkeypatch.setattr(watch, "POLL_IDLE_MAX", 0.4)
    monkeypatch.setattr(watch, "POLL_ERROR_MAX", 0.4)
    monkeypatch.setattr(app_backend, "RECONNECT_MIN", 0.1)
    monkeypatch.setattr(app_backend, "RECONNECT_MAX", 0.4)


async def until(pilot: Pilot[Any], predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await pilot.pause(0.02)


# ---- a backend that goes away -------------------------------------------------------------


class _Domain:
    def __init__(self, owner: Flaky, name: str, inner: Any) -> None:
        self._owner, self._name, self._inner = owner, name, inner

    def __getattr__(self, method: str) -> Any:
        real = getattr(self._inner, method)

        def call(*args: Any, **kwargs: Any) -> Any:
            self._owner.calls[f"{self._name}.{method}"] += 1
            if self._owner.down:
                async def refused() -> Any:
                    raise Unavailable("cannot reach http://crewos.test: connection refused")

                return refused()
            return real(*args, **kwargs)

        return call


class Flaky:
    """The demo workspace behind a remote-looking backend whose every call fails, as an
    unreachable server's would, while ``down``; it counts the calls. Like a remote
    backend it has no live updates (no ``subscribe``): only polls see changes."""

    mode = "remote"

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.down = False
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        if name == "subscribe":
            raise AttributeError(name)
        return _Domain(self, name, getattr(self.inner, name))

    async def close(self) -> None:
        await self.inner.close()


@pytest.fixture
def flaky_app(demo_spec: LaunchSpec, fast_polls: None) -> tuple[Any, list[Flaky]]:
    made: list[Flaky] = []

    async def opener(spec: LaunchSpec) -> Connection:
        conn = await open_real(spec)
        made.append(Flaky(conn.backend))
        return Connection(made[-1], key_source="env")  # type: ignore[arg-type]

    return make_app(demo_spec, opener=opener), made


async def test_a_screen_opened_during_an_outage_loads_by_itself_when_the_connection_is_back(
        flaky_app: tuple[Any, list[Flaky]]) -> None:
    app, made = flaky_app
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        backend = made[0]
        projects = app.screen
        assert isinstance(projects, ProjectsScreen)
        backend.down = True
        await pilot.press("6")  # the ledger, opened while the server is away
        await until(pilot, lambda: app.session.health == "offline")
        ledger = app.screen
        assert isinstance(ledger, LedgerScreen)
        label = ledger.query_one("#ledger-project", Static)
        assert ledger.project_id is None and "Project…" in str(label.render())  # nothing could load
        # Meanwhile someone adds a project (the screen behind, projects, must show it later).
        maya = await backend.inner.services.auth.principal_for("maya")
        added = await backend.inner.services.projects.create(maya, ProjectCreate(name=unique("During outage ")))

        backend.down = False  # the server is back; no key is pressed from here on
        await until(pilot, lambda: app.session.health == "online")
        await until(pilot, lambda: ledger.project_id is not None and ledger.requests_table.items != [])
        assert ledger.project_name and ledger.project_name in str(label.render())
        await pilot.press("1")
        await until(pilot, lambda: added.id in {p.id for p in projects.project_table.items})


async def test_the_remote_board_polls_not_into_an_outage_and_resumes_after(
        flaky_app: tuple[Any, list[Flaky]], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREWOS_TUI_BOARD_REFRESH", "1")
    app, made = flaky_app
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        backend = made[0]
        await pilot.press("2")
        await settle(pilot)
        board = app.screen
        assert isinstance(board, BoardScreen) and board.project is not None
        polled = backend.calls["tasks.list"]
        await until(pilot, lambda: backend.calls["tasks.list"] > polled)  # it polls while online
        backend.down = True
        await until(pilot, lambda: app.session.health == "offline")
        await settle(pilot)
        during = backend.calls["tasks.list"]
        probes = backend.calls["notifications.unread_count"]
        # The status bar's probe goes on (backing off); the board asks nothing meanwhile,
        # though its 1 s interval passes several times while the probe waits 0.4 s a try.
        await until(pilot, lambda: backend.calls["notifications.unread_count"] >= probes + 6)
        assert backend.calls["tasks.list"] == during
        backend.down = False
        await until(pilot, lambda: app.session.health == "online")
        await until(pilot, lambda: backend.calls["tasks.list"] > during)  # reloaded, and polling again
        after = backend.calls["tasks.list"]
        await until(pilot, lambda: backend.calls["tasks.list"] > after)


async def test_ctrl_r_while_offline_reloads_and_asks_at_once_whether_the_server_is_back(
        flaky_app: tuple[Any, list[Flaky]], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(watch, "POLL_ERROR_MAX", 3600.0)  # the probe would not come again by itself
    app, made = flaky_app
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        backend = made[0]
        backend.down = True
        await pilot.press("ctrl+r")
        await until(pilot, lambda: app.session.health == "offline")
        await settle(pilot)
        backend.down = False
        listed = backend.calls["projects.list"]
        await pilot.press("ctrl+r")
        await until(pilot, lambda: app.session.health == "online")
        await settle(pilot)
        assert backend.calls["projects.list"] > listed


# ---- a real server that goes away and comes back -------------------------------------------


@pytest.fixture
async def workspace(tmp_path: Path) -> AsyncIterator[tuple[Services, Any, str]]:
    """A data dir to serve, its setup service layer, a member and the member's API key."""
    svc = await Services.open(tmp_path / "crewos.db", settings=fast_settings())
    try:
        me, _ = await user_factory(svc)()
        yield svc, me, await api_key_of(svc, me)
    finally:
        await svc.close()


def live_server(db: Path, port: int | None = None) -> Any:
    from .contract.conftest import LiveServer

    server = LiveServer(db)
    if port is not None:  # the same address as before the outage
        server.port, server.url = port, f"http://127.0.0.1:{port}"
    return server


def remote_app(url: str, key: str, username: str) -> Any:
    from crewos_tui.backend.remote import RemoteBackend

    async def opener(_spec: LaunchSpec) -> Connection:
        return Connection(RemoteBackend(url, key, backoff=0.01), key_source="env")

    spec = LaunchSpec(profile="work", mode="remote", url=url, username=username)
    return make_app(replace(spec), opener=opener)


async def test_after_the_server_comes_back_the_open_screen_shows_what_changed_meanwhile(
        workspace: tuple[Services, Any, str], fast_polls: None, tmp_path: Path) -> None:
    svc, me, key = workspace
    first = await svc.projects.create(await principal_of(svc, me), ProjectCreate(name=unique("Before ")))
    server = live_server(tmp_path / "crewos.db")
    server.start()
    app = remote_app(server.url, key, me.username)
    again: Any = None
    try:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.session.health == "online")
            screen = app.screen
            assert isinstance(screen, ProjectsScreen)
            await until(pilot, lambda: [p.id for p in screen.project_table.items] == [first.id])
            server.stop()
            await pilot.press("ctrl+r")  # fails: the server is gone
            await until(pilot, lambda: app.session.health == "offline")
            later = await svc.projects.create(await principal_of(svc, me), ProjectCreate(name=unique("During ")))
            again = live_server(tmp_path / "crewos.db", server.port)
            again.start()
            await until(pilot, lambda: app.session.health == "online")  # no key pressed
            await until(pilot, lambda: {p.id for p in screen.project_table.items} == {first.id, later.id})
    finally:
        for s in (server, again):
            if s is not None:
                s.stop()


async def test_a_server_down_when_the_app_starts_is_found_once_it_is_up(
        workspace: tuple[Services, Any, str], fast_polls: None, tmp_path: Path) -> None:
    from .contract.conftest import free_port

    svc, me, key = workspace
    project = await svc.projects.create(await principal_of(svc, me), ProjectCreate(name=unique("Waiting ")))
    port = free_port()
    app = remote_app(f"http://127.0.0.1:{port}", key, me.username)
    notes = Notes(app)
    server = live_server(tmp_path / "crewos.db", port)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app._connect_tries >= 3)  # it keeps trying, by itself
            assert app.session.health == "offline"
            assert len(notes.errors()) == 1 and "cannot reach" in notes.errors()[0]  # said once, not per try
            server.start()
            await until(pilot, lambda: app.session.health == "online")
            screen = app.screen
            assert isinstance(screen, ProjectsScreen)
            await until(pilot, lambda: [p.id for p in screen.project_table.items] == [project.id])
            assert len(notes.errors()) == 1
    finally:
        server.stop()


# ---- ctrl+r is there to see ------------------------------------------------------------------


def screen_classes() -> list[type[Any]]:
    import importlib

    modes = []
    for m in MODES:
        module, _, cls = m.target.partition(":")
        modes.append(getattr(importlib.import_module(module), cls))
    return [*modes, GapsScreen, ValidationsScreen]


@pytest.mark.parametrize("cls", screen_classes(), ids=lambda c: c.__name__)
def test_every_screen_shows_ctrl_r_reload(cls: type[Any]) -> None:
    reloads = [b for b in cls._merge_bindings().key_to_bindings.get("ctrl+r", []) if b.action == "reload"]
    assert len(reloads) == 1, cls
    [binding] = reloads
    assert binding.show and binding.description == "Reload" and binding.id and binding.id.endswith(".reload")


async def test_help_and_footer_list_ctrl_r(demo_spec: LaunchSpec) -> None:
    from textual.widgets import Footer

    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for m in MODES:
            await app.switch_mode(m.name)
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, BackendScreen)
            lines = [line for section in help_sections(app, screen) for line in section.lines]
            assert any(line.keys == "^r" and line.binding_id.endswith(".reload") for line in lines), m.name
            footer_keys = {getattr(key, "key", None) for key in screen.query_one(Footer).query("FooterKey")}
            assert "ctrl+r" in footer_keys, m.name
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)


async def test_the_task_dialog_open_during_an_outage_loads_when_the_connection_is_back(
        flaky_app: tuple[Any, list[Flaky]]) -> None:
    from textual.widgets import Label

    from crewos_tui.widgets.task_detail import TaskDetailScreen

    app, made = flaky_app
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        backend = made[0]
        await pilot.press("2")
        await settle(pilot)
        board = app.screen
        assert isinstance(board, BoardScreen)
        task = board.focused_column.tasks[0]
        backend.down = True
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TaskDetailScreen))
        dialog = app.screen
        await until(pilot, lambda: app.session.health == "offline")
        await settle(pilot)
        assert dialog.detail is None  # type: ignore[attr-defined]
        backend.down = False
        await until(pilot, lambda: dialog.detail is not None)  # type: ignore[attr-defined]
        assert str(dialog.query_one("#task-detail-title", Label).render()) == task.title
