"""Snapshots of the review screen at 80x24 and 120x40: the queue with its preview, a
decision waiting in its undo window, the reason prompt, the batch confirmation and
its receipt, the capability-gap findings, the validation log and one opened finding.
Ages are measured against a pinned "now"; the undo window is long enough that the
countdown never ticks during a capture."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from crewos_tui.backend.ids import FixedClock, IdGenerator
from crewos_tui.launch import LaunchSpec
from crewos_tui.screens import review, review_actions

from .app_support import make_app, settle

SIZES = pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
NOW = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def pinned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(review, "now", lambda: NOW)
    monkeypatch.setattr(review_actions, "GRACE_SECONDS", 3600.0)
    monkeypatch.setattr(review_actions, "clock", lambda: 1000.0)


async def on_review(pilot: Pilot[Any], *keys: str) -> None:
    await settle(pilot)
    await pilot.press("4")
    await settle(pilot)
    for key in keys:
        await pilot.press(key)
        await settle(pilot)


@SIZES
def test_review_queue(snap_compare: Any, demo_spec: LaunchSpec, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await on_review(pilot)
        await pilot.pause(0.3)  # the transcript and history arrive after the cursor rests
        await settle(pilot)

    assert snap_compare(make_app(demo_spec), terminal_size=size, run_before=run_before)


@SIZES
def test_review_decision_waiting_to_be_sent(snap_compare: Any, demo_spec: LaunchSpec, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await on_review(pilot, "a", "space")

    assert snap_compare(make_app(demo_spec), terminal_size=size, run_before=run_before)


@SIZES
def test_review_reason_prompt(snap_compare: Any, demo_spec: LaunchSpec, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await on_review(pilot, "r")

    assert snap_compare(make_app(demo_spec), terminal_size=size, run_before=run_before)


@SIZES
def test_review_batch_confirmation(snap_compare: Any, demo_spec: LaunchSpec, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await on_review(pilot, "space", "space", "A")

    assert snap_compare(make_app(demo_spec), terminal_size=size, run_before=run_before)


@SIZES
def test_review_batch_receipt(snap_compare: Any, demo_spec: LaunchSpec, size: tuple[int, int],
                              monkeypatch: pytest.MonkeyPatch) -> None:
    """At 80x24 the receipt takes the height and scrolls; its path and buttons show."""
    monkeypatch.setattr(review, "STATS_EVERY", 0.05)  # the counts behind it are the new ones

    async def run_before(pilot: Pilot[Any]) -> None:
        await on_review(pilot)
        app: Any = pilot.app
        # The batch's id and time, and where its receipt goes, pinned for the capture.
        ctx = app.backend.services.ctx
        ctx.clock = FixedClock(NOW, timedelta(0))  # stands still: the counts polled behind read it too
        ctx.ids = IdGenerator(ctx.clock, seed=7)
        app.spec = replace(app.spec, data_dir=Path("/home/maya/.local/share/crewos-tui"))
        for key in ("space", "space", "A", "y"):
            await pilot.press(key)
            await settle(pilot)
        await pilot.pause(0.3)  # the counts, and the preview of the item the cursor moved to
        await settle(pilot)

    assert snap_compare(make_app(demo_spec), terminal_size=size, run_before=run_before)


@SIZES
def test_capability_gaps_view(snap_compare: Any, demo_spec: LaunchSpec, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await on_review(pilot, "g")

    assert snap_compare(make_app(demo_spec), terminal_size=size, run_before=run_before)


@SIZES
def test_validation_log(snap_compare: Any, demo_spec: LaunchSpec, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await on_review(pilot, "V", "i")  # every run (the demo's two), the newest highlighted

    assert snap_compare(make_app(demo_spec), terminal_size=size, run_before=run_before)


@SIZES
def test_capability_gap_finding_opened(snap_compare: Any, demo_spec: LaunchSpec, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await on_review(pilot, "g", "enter")

    assert snap_compare(make_app(demo_spec), terminal_size=size, run_before=run_before)
