"""Snapshots of the app at 80x24 and 120x40: the frame before data arrives, the
projects screen, the create form with a validation error, the help overlay and
the login screen. Demo data has fixed ids and times; the cursor does not blink;
every worker has finished before the capture."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest
from textual.pilot import Pilot

from crewos_tui.launch import LaunchSpec

from .app_support import make_app, settle

SIZES = pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])


async def never_connects(spec: LaunchSpec) -> Any:
    await asyncio.Event().wait()  # the frame as it is before the backend answers


async def needs_login(spec: LaunchSpec) -> Any:
    from crewos_tui.connect import LoginRequired

    raise LoginRequired(f"no API key for profile {spec.profile!r}: sign in")


@SIZES
def test_frame(snap_compare: Any, demo_spec: LaunchSpec, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await pilot.pause(0.1)

    assert snap_compare(make_app(demo_spec, opener=never_connects), terminal_size=size, run_before=run_before)


@SIZES
def test_projects_screen(snap_compare: Any, demo_spec: LaunchSpec, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(demo_spec), terminal_size=size, run_before=settle)


@SIZES
def test_create_project_form_with_error(snap_compare: Any, demo_spec: LaunchSpec, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("n", "enter")
        await settle(pilot)

    assert snap_compare(make_app(demo_spec), terminal_size=size, run_before=run_before)


@SIZES
def test_help_overlay(snap_compare: Any, demo_spec: LaunchSpec, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)

    assert snap_compare(make_app(demo_spec), terminal_size=size, run_before=run_before)


@SIZES
def test_login_screen(snap_compare: Any, size: tuple[int, int]) -> None:
    spec = LaunchSpec(profile="work", mode="remote", url="https://crewos.example.com", username="maya")
    assert snap_compare(make_app(replace(spec), opener=needs_login), terminal_size=size, run_before=settle)
