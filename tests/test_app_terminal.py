"""The app on the terminals reviewers use over SSH: an ANSI theme where only 16 colours
show, and, while the terminal is not focused, a desktop notification and a title mark
for a new decision (the bytes the driver would write, captured)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from textual import events
from textual.pilot import Pilot

from crewos_tui.attention import ENV, POP_TITLE, PUSH_TITLE
from crewos_tui.launch import LaunchSpec

from .app_support import make_app, settle, terminal_writes

SIZE = (80, 24)
ESC, BEL = "\x1b", "\x07"


def sixteen_colour_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLORTERM", raising=False)
    monkeypatch.setenv("TERM", "xterm")


async def test_a_16_colour_terminal_gets_the_ansi_theme(demo_spec: LaunchSpec, monkeypatch: pytest.MonkeyPatch) -> None:
    sixteen_colour_terminal(monkeypatch)
    async with make_app(demo_spec).run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert pilot.app.theme == "ansi-dark"


async def test_the_configured_theme_wins_over_the_terminal(
    demo_spec: LaunchSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    sixteen_colour_terminal(monkeypatch)
    async with make_app(replace(demo_spec, theme="nord")).run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert pilot.app.theme == "nord"


async def test_a_truecolor_terminal_keeps_the_default_theme(demo_spec: LaunchSpec) -> None:
    async with make_app(demo_spec).run_test(size=SIZE) as pilot:  # conftest: COLORTERM=truecolor
        await settle(pilot)
        assert pilot.app.theme == "textual-dark"


# ---- attention --------------------------------------------------------------------


async def request_review_of_maya(pilot: Pilot[Any], title: str) -> None:
    """priya, another client of the same service layer, asks the demo user for a review."""
    from crewos_tui.backend.schemas import ReviewItemCreate

    app: Any = pilot.app
    auth = app.backend.services.auth
    priya = app.backend.as_user(await auth.principal_for("priya"))
    maya = await auth.principal_for("maya")
    atlas = next(p for p in (await priya.projects.list()).items if p.name == "Atlas Launch")
    await priya.review.submit(ReviewItemCreate(title=title, project_id=atlas.id, requested_reviewer_ids=[maya.user_id]))
    await pilot.pause(0.3)
    await settle(pilot)


async def blur(pilot: Pilot[Any], focused: bool = False) -> None:
    pilot.app.post_message(events.AppFocus() if focused else events.AppBlur())
    await pilot.pause()


async def test_a_decision_while_unfocused_notifies_the_desktop_and_marks_the_title(
    demo_spec: LaunchSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV, "1")
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("TMUX", raising=False)
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        written = terminal_writes(app)
        await blur(pilot)
        assert not app.app_focus
        # (the service refuses control characters in titles; test_attention.py feeds hostile ones)
        await request_review_of_maya(pilot, "Launch copy")
        out = "".join(written)
        assert out.startswith(PUSH_TITLE)
        assert f"{ESC}]9;crewos: Review requested in Atlas Launch — priya asks for your review of “Launch copy" in out
        assert f"{ESC}]777;notify;crewos: Review requested in Atlas Launch;priya asks" in out
        assert out.endswith(f"{ESC}]2;● crewos — 1 decision waiting{BEL}")
        assert app.title == "● crewos — 1 decision waiting"

        written.clear()
        await blur(pilot, focused=True)
        assert app.title == "crewos"
        assert "".join(written) == f"{ESC}]2;crewos{BEL}{POP_TITLE}"

        written.clear()  # focused: a new one is a toast only, nothing for the desktop
        await request_review_of_maya(pilot, "Second draft")
        assert written == [] and app.title == "crewos"


async def test_inside_tmux_the_notification_goes_through_passthrough(
    demo_spec: LaunchSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV, "1")
    monkeypatch.setenv("TMUX", "/tmp/tmux-1000/default,123,0")
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        written = terminal_writes(app)
        await blur(pilot)
        await request_review_of_maya(pilot, "Launch copy")
        out = "".join(written)
        assert f"{ESC}Ptmux;{ESC}{ESC}]9;crewos: Review requested in Atlas Launch" in out
        assert f"{ESC}Ptmux;{ESC}{ESC}]777;notify;" in out
        assert f"{BEL}{ESC}\\" in out  # each wrapped sequence ends with tmux's ST
        assert app.title.startswith("●")


async def test_other_news_and_the_test_default_write_nothing(demo_spec: LaunchSpec) -> None:
    """conftest sets CREWOS_TUI_DESKTOP_NOTIFICATIONS=0: no test writes to the real terminal."""
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        written = terminal_writes(app)
        await blur(pilot)
        await request_review_of_maya(pilot, "Launch copy")
        assert written == [] and app.title == "crewos"


async def test_news_that_asks_for_no_decision_writes_nothing(
    demo_spec: LaunchSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    from crewos_tui.backend.schemas import TaskCreate

    monkeypatch.setenv(ENV, "1")
    app: Any = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        written = terminal_writes(app)
        await blur(pilot)
        auth = app.backend.services.auth
        priya = app.backend.as_user(await auth.principal_for("priya"))
        maya = await auth.principal_for("maya")
        atlas = next(p for p in (await priya.projects.list()).items if p.name == "Atlas Launch")
        await priya.tasks.create(TaskCreate(project_id=atlas.id, title="Proofread", assignee_id=maya.user_id))
        await pilot.pause(0.3)
        await settle(pilot)
        assert any(n.kind == "task.assigned" and n.unread for n in (await app.backend.notifications.list()).items)
        assert written == [] and app.title == "crewos"
