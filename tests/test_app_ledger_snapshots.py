"""Snapshots of the ledger screen at 80x24 and 120x40: the demo ledger with the
impact preview of a pending request, and the typed confirmation a burn needs."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from textual.pilot import Pilot

from crewos_tui.launch import LaunchSpec

from .app_support import make_app, settle

SIZES = pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])


async def to_ledger(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await pilot.press("6")
    await settle(pilot)


@SIZES
def test_ledger_screen(snap_compare: Any, demo_spec: LaunchSpec, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(demo_spec), terminal_size=size, run_before=to_ledger)


@SIZES
def test_burn_needs_the_project_name(snap_compare: Any, demo_spec: LaunchSpec, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await to_ledger(pilot)
        await pilot.press("down")  # maya's burn; priya is the one who may approve it
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)

    app = make_app(replace(demo_spec, username="priya"))
    assert snap_compare(app, terminal_size=size, run_before=run_before)
