"""Issue 16, item 1: whatever has the keyboard shows it, at any colour depth: a bar on its
left edge (``styles/focus.tcss``). Tab walks every screen's focusable widgets at 80x24 and
each one, when focused, has the bar drawn on its edge; the dialog button that does not
have focus has none (a primary button's colour is not focus)."""

from __future__ import annotations

from typing import Any

import pytest
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button, Select, Tabs

from crewos_tui.launch import LaunchSpec
from crewos_tui.screens.registry import MODES

from .app_support import make_app, open_mode, settle

SMALL = (80, 24)
BAR = "▊"


def edge(widget: Widget) -> Widget:
    """The widget that draws the bar: a Select draws its value over its own edge, tabs
    their tabs (the bar marks the active one)."""
    if isinstance(widget, Select):
        return widget.query_one("SelectCurrent")
    if isinstance(widget, Tabs):
        return widget.query_one("Tab.-active")
    return widget


def char_at(app: Any, x: int, y: int) -> str:
    line = app.screen._compositor.render_strips()[y].text
    return line[x] if x < len(line) else ""


def shows_focus(app: Any, widget: Widget) -> bool:
    region = edge(widget).region
    return char_at(app, region.x, region.y) == BAR


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.name)
async def test_every_focusable_widget_shows_its_focus(demo_spec: LaunchSpec, mode: Any) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_mode(pilot, mode.key, Screen)
        seen: list[str] = []
        for _ in range(8):
            focused = screen.focused
            if focused is not None and focused.region.area:
                name = f"{type(focused).__name__}#{focused.id}"
                assert shows_focus(app, focused), f"{name} has focus and does not show it"
                seen.append(name)
            await pilot.press("tab")
            await settle(pilot)
        assert seen  # something on every screen takes the keyboard


async def test_only_the_focused_dialog_button_looks_focused(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SMALL) as pilot:
        await open_mode(pilot, "1", Screen)
        await pilot.press("n")  # the new-project form: Create (primary) and Cancel
        await settle(pilot)
        create = app.screen.query_one("#form-submit", Button)
        cancel = app.screen.query_one("#form-cancel", Button)
        assert not shows_focus(app, create) and not shows_focus(app, cancel)
        cancel.focus()
        await pilot.pause()
        assert shows_focus(app, cancel) and not shows_focus(app, create)
        create.focus()
        await pilot.pause()
        assert shows_focus(app, create) and not shows_focus(app, cancel)
