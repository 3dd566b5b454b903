"""Snapshots of the admin screen at 80x24 and 120x40: the users tab, LLM routing and
budgets with the usage chart, the audit log after an integrity check, and what a
non-admin sees instead."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from textual.pilot import Pilot

from crewos_tui.launch import LaunchSpec

from .app_support import make_app, settle

SIZES = pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])


def to_admin(tab: str = "users", *keys: str) -> Any:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("0")
        await settle(pilot)
        if tab != "users":
            pilot.app.screen.show_view(tab)
            await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    return run_before


@SIZES
def test_admin_users(snap_compare: Any, demo_spec: LaunchSpec, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(demo_spec), terminal_size=size, run_before=to_admin())


@SIZES
def test_admin_llm_and_budgets(snap_compare: Any, demo_spec: LaunchSpec, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(demo_spec), terminal_size=size, run_before=to_admin("llm"))


@SIZES
def test_admin_audit_verified(snap_compare: Any, demo_spec: LaunchSpec, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(demo_spec), terminal_size=size, run_before=to_admin("audit", "v"))


@SIZES
def test_admin_refused_for_members(snap_compare: Any, demo_spec: LaunchSpec, size: tuple[int, int]) -> None:
    app = make_app(replace(demo_spec, username="devon"))
    assert snap_compare(app, terminal_size=size, run_before=to_admin())


@SIZES
def test_admin_cache_and_queue(snap_compare: Any, demo_spec: LaunchSpec, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(demo_spec), terminal_size=size, run_before=to_admin("cache"))


@SIZES
def test_admin_policy_and_prompt_standards(snap_compare: Any, demo_spec: LaunchSpec, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(demo_spec), terminal_size=size, run_before=to_admin("policy"))
