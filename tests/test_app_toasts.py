"""Toasts stay few (``crewos_tui/toasts.py``): the same toast said again while it shows is
one toast with a count, at most three are on screen (the oldest leave first), and this
holds for every toast, Textual's own included. Read off the rendered screen."""

from __future__ import annotations

import asyncio
from typing import Any

from textual.app import App
from textual.pilot import Pilot
from textual.widgets._toast import Toast

from crewos_tui.app import CrewOSApp
from crewos_tui.launch import LaunchSpec
from crewos_tui.toasts import MAX_SHOWN

from .app_support import make_app
from .test_app_hostile_text import screen_text


async def never_connects(spec: LaunchSpec) -> Any:
    await asyncio.Event().wait()  # no backend: no other toast comes along


def toasts(pilot: Pilot[Any]) -> list[str]:
    """What the toasts on screen say, oldest first."""
    return [str(t.render()) for t in pilot.app.screen.query(Toast)]


async def shown(pilot: Pilot[Any]) -> None:
    for _ in range(3):  # the toast rack mounts new toasts after the next refresh
        await pilot.pause()


def app_for(demo_spec: LaunchSpec) -> CrewOSApp:
    return make_app(demo_spec, opener=never_connects)


async def test_the_same_toast_three_times_is_one_toast_counting_three(demo_spec: LaunchSpec) -> None:
    app = app_for(demo_spec)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        for _ in range(3):
            app.notify("Nothing changed.", severity="warning")
            await shown(pilot)
        assert toasts(pilot) == ["Nothing changed. ×3"]
        assert screen_text(pilot).count("Nothing changed.") == 1
        assert "Nothing changed. ×3" in screen_text(pilot)


async def test_a_repeat_is_the_newest_toast_and_other_toasts_are_not_merged(demo_spec: LaunchSpec) -> None:
    app = app_for(demo_spec)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        app.notify("Saved revision 3.")
        app.notify("Saved revision 3.", severity="error")  # another severity: another toast
        app.notify("Copied the reply.")
        app.notify("Saved revision 3.")
        await shown(pilot)
        assert toasts(pilot) == ["Saved revision 3.", "Copied the reply.", "Saved revision 3. ×2"]


async def test_at_most_three_toasts_show_and_the_oldest_go_first(demo_spec: LaunchSpec) -> None:
    app = app_for(demo_spec)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        for n in range(1, 6):
            app.say(f"Toast number {n}.")
            await shown(pilot)
        assert MAX_SHOWN == 3
        assert toasts(pilot) == ["Toast number 3.", "Toast number 4.", "Toast number 5."]
        text = screen_text(pilot)
        assert "Toast number 1." not in text and "Toast number 2." not in text
        assert all(f"Toast number {n}." in text for n in (3, 4, 5))


async def test_textuals_own_toasts_are_counted_and_capped_too(demo_spec: LaunchSpec) -> None:
    app = app_for(demo_spec)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        for _ in range(4):
            App.notify(app, "Saved screenshot", title="Screenshot")  # Textual's path, not ours
        await shown(pilot)
        assert toasts(pilot) == ["Screenshot\nSaved screenshot ×4"]


async def test_a_toast_said_again_after_it_went_is_new(demo_spec: LaunchSpec) -> None:
    app = app_for(demo_spec)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        app.notify("Already tidy.", timeout=0.2)
        await shown(pilot)
        await pilot.pause(0.4)  # it timed out and left
        app.notify("Already tidy.")
        await shown(pilot)
        assert toasts(pilot) == ["Already tidy."]
