"""Hostile text from a backend is shown literally on every screen (issue 14).

A demo member (devon) writes names, titles and messages full of Rich markup, terminal
escapes (clear screen, OSC 52 clipboard) and a bidi override; the demo admin (maya)
then walks every screen and opens the edit and archive dialogs on that project. The
app must not crash on the markup, must not turn ``[@click=...]`` into an action, and
must never put an escape byte on the screen."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import update
from textual.pilot import Pilot

from crewos_tui import paths
from crewos_tui.backend.local.tables import ChatMessageRow
from crewos_tui.launch import LaunchSpec
from crewos_tui.screens.projects import ProjectsScreen
from crewos_tui.screens.registry import MODES
from crewos_tui.widgets.confirm import ConfirmModal
from crewos_tui.widgets.forms import FormModal

from .app_support import make_app, settle
from .conftest import fast_settings

HOSTILE = "x [/] [@click=app.quit]Q[/] [link=http://e.x]L[/link] \x1b[2J \x1b]52;c;SGVsbG8=\x07 \u202eevil"
SIZE = (160, 50)
#: What must never reach the screen: C0 controls (but line breaks), DEL, C1, bidi controls.
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


async def seed_hostile(spec: LaunchSpec) -> str:
    """Devon's project, task, review item and shared session; maya's own session. Returns the project id."""
    from crewos_tui.backend.local.services import Services
    from crewos_tui.backend.schemas import (
        ChatSessionCreate,
        ProjectCreate,
        ProjectRole,
        ReviewItemCreate,
        SessionShareCreate,
        TaskCreate,
    )

    assert spec.data_dir is not None
    svc = await Services.open(paths.database_file(spec.data_dir, demo=True), settings=fast_settings())
    try:
        devon = await svc.auth.principal_for("devon")
        maya = await svc.auth.principal_for("maya")
        # model_construct: the request models now refuse control characters (our server cleans its
        # input), but a real CrewOS server may not; the TUI must hold against stored hostile text.
        project = await svc.projects.create(devon, ProjectCreate.model_construct(name=HOSTILE, description=HOSTILE))
        await svc.projects.upsert_member(devon, project.id, maya.user_id, ProjectRole.editor)  # type: ignore[arg-type]
        await svc.tasks.create(devon, TaskCreate.model_construct(project_id=project.id, title=HOSTILE,
                                                                 description=HOSTILE))
        await svc.review.submit(devon, ReviewItemCreate.model_construct(title=HOSTILE, summary=HOSTILE,
                                                                        payload=HOSTILE, project_id=project.id))
        shared = await svc.sessions.create(devon, ChatSessionCreate.model_construct(title=HOSTILE))
        await svc.chat.send(devon, "hello", session_id=shared.id)
        await svc.sessions.create_share(devon, shared.id, SessionShareCreate(username="maya"))
        own = await svc.sessions.create(maya, ChatSessionCreate.model_construct(title=HOSTILE))
        await svc.chat.send(maya, "hello", session_id=own.id)
        # Chat refuses control characters in a message too; store them as such a server would.
        async with svc.ctx.db.transaction() as s:
            await s.execute(update(ChatMessageRow).values(content=HOSTILE))
        return project.id
    finally:
        await svc.close()


def screen_text(pilot: Pilot[Any]) -> str:
    """Every character the current screen would write, as the compositor renders it."""
    strips = pilot.app.screen._compositor.render_strips()  # the rendered lines, not the DOM
    return "\n".join("".join(seg.text for seg in strip if not seg.control) for strip in strips)


class Captures:
    def __init__(self) -> None:
        self.texts: list[str] = []

    def take(self, pilot: Pilot[Any], where: str) -> str:
        text = screen_text(pilot)
        raw = RAW.findall(text)
        assert not raw, f"{where}: raw control characters on screen: {raw!r}"
        svg = pilot.app.export_screenshot()
        assert "\x1b" not in svg and "\x07" not in svg and "\u202e" not in svg, where
        self.texts.append(text)
        return text


async def test_hostile_text_is_literal_on_every_screen_and_dialog(demo_spec: LaunchSpec) -> None:
    pid = await seed_hostile(demo_spec)
    app = make_app(demo_spec)
    seen = Captures()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for mode in sorted(MODES, key=lambda m: "1234567890".index(m.key)):
            app.screen.set_focus(None)  # a focused input (the chat box) would take the digit
            await pilot.press(mode.key)
            await settle(pilot)
            assert app.is_running, f"screen {mode.key} ended the app"
            assert app.current_mode == mode.name, (mode.key, app.current_mode)
            seen.take(pilot, f"screen {mode.key} ({mode.name})")

        app.screen.set_focus(None)
        await pilot.press("1")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ProjectsScreen)
        screen.project_table.focus()
        assert screen.project_table.select_key(pid)
        await settle(pilot)
        assert screen.project is not None and screen.project.id == pid
        projects = seen.take(pilot, "projects, hostile project selected")
        assert "[@click=app.quit]Q[/]" in projects and "␛[2J" in projects

        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, FormModal)
        edit = seen.take(pilot, "edit dialog")
        assert "[@click=app.quit]" in edit
        await pilot.press("escape")
        await settle(pilot)

        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        archive = seen.take(pilot, "archive dialog")
        assert "[@click=app.quit]" in archive and "␛[2J" in archive
        # The markup did not become a clickable action: clicking all along the quoted name
        # (where "[@click=app.quit]Q" would have been a link) leaves the app running.
        for x in range(40):
            await pilot.click(".dialog-note", offset=(x, 0))
        await settle(pilot)
        assert app.is_running
        if isinstance(app.screen, ConfirmModal):
            await pilot.press("n")
            await settle(pilot)
        assert app.is_running

        project = await app.backend.projects.get(pid)
        assert str(getattr(project.status, "value", project.status)) != "archived"  # nothing was confirmed

    everything = "\n".join(seen.texts)
    assert "␛]52;c;SGVsbG8=␇" in everything  # the OSC 52 sequence shows as text
    assert "\ufffdevil" in everything  # the bidi override is a visible mark
    assert "[link=http://e.x]L[/link]" in everything
