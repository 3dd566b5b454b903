"""Snapshots of the board and a card's detail pane at 80x24 and 120x40, on the
demo data (fixed ids and times, no blinking cursor, every worker finished)."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from crewos_tui.launch import LaunchSpec

from .app_support import make_app, settle

SIZES = pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])


async def _board(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await pilot.press("2")
    await settle(pilot)


@SIZES
def test_board(snap_compare: Any, demo_spec: LaunchSpec, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await _board(pilot)
        await pilot.press("down")  # the cursor on the second card of "To do"
        await settle(pilot)

    assert snap_compare(make_app(demo_spec), terminal_size=size, run_before=run_before)


@SIZES
def test_board_detail_pane(snap_compare: Any, demo_spec: LaunchSpec, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await _board(pilot)
        await pilot.press("right", "right", "down", "enter")  # Review: "Set up the review rota"
        await settle(pilot)

    assert snap_compare(make_app(demo_spec), terminal_size=size, run_before=run_before)
