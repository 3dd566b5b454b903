"""Snapshots of the notifications screen and its preferences form at 80x24 and
120x40 (demo data: fixed ids and times; every worker finished before the capture)."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Select

from crewos_tui.launch import LaunchSpec

from .app_support import make_app, settle

SIZES = pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])


async def on_notifications(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await pilot.press("5")
    await settle(pilot)


@SIZES
def test_notifications_screen(snap_compare: Any, demo_spec: LaunchSpec, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(demo_spec), terminal_size=size, run_before=on_notifications)


@SIZES
def test_notification_preferences(snap_compare: Any, demo_spec: LaunchSpec, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await on_notifications(pilot)
        await pilot.press("p")
        await settle(pilot)

    assert snap_compare(make_app(demo_spec), terminal_size=size, run_before=run_before)


@SIZES
def test_notifications_empty(snap_compare: Any, demo_spec: LaunchSpec, size: tuple[int, int]) -> None:
    """A kind the demo user has none of: the empty state reads whole, not cut to its first letter."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await on_notifications(pilot)
        pilot.app.screen.query_one("#kind-filter", Select).value = "chat.mention"
        await settle(pilot)

    assert snap_compare(make_app(demo_spec), terminal_size=size, run_before=run_before)
