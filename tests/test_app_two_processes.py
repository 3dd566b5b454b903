"""Two apps on one workspace see each other's work without a reload (``ctrl+r``): the
local service layer watches for other processes' commits (``commit_watch.py``) and the
app turns them into its ``data_changed`` signal, as it does for its own."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from textual.pilot import Pilot

from crewos_tui.backend.local import commit_watch
from crewos_tui.launch import LaunchSpec
from crewos_tui.screens.ledger import LedgerScreen
from crewos_tui.widgets.confirm import ConfirmModal

from .app_support import make_app, settle

SIZE = (120, 40)


@pytest.fixture(autouse=True)
def quick_watch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(commit_watch, "WATCH_SECONDS", 0.05)


async def open_ledger(pilot: Pilot[Any]) -> LedgerScreen:
    await settle(pilot)
    await pilot.press("6")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, LedgerScreen), screen
    return screen


async def until(pilot: Pilot[Any], condition: Callable[[], bool], what: str) -> None:
    """Wait for the other process's commit to show here: bounded, never a fixed time."""
    for _ in range(600):
        if condition():
            await settle(pilot)
            return
        await pilot.pause(0.05)
    raise AssertionError(f"never happened: {what}")


def pending_memos(screen: LedgerScreen) -> list[str]:
    return [r.memo for r in screen.requests_table.items]


async def test_a_request_approved_in_one_app_leaves_the_others_pending_list(demo_spec: LaunchSpec) -> None:
    """As maya and as priya on one workspace: priya approves devon's request; maya's open
    ledger stops listing it as pending, with no key pressed in maya's app."""
    maya, priya = make_app(demo_spec), make_app(replace(demo_spec, username="priya"))
    async with maya.run_test(size=SIZE) as maya_pilot:
        maya_ledger = await open_ledger(maya_pilot)
        assert "Docs site bounty" in pending_memos(maya_ledger)
        async with priya.run_test(size=SIZE) as priya_pilot:
            priya_ledger = await open_ledger(priya_pilot)
            req = next(r for r in priya_ledger.requests_table.items if r.memo == "Docs site bounty")
            assert priya_ledger.requests_table.select_key(req.id)
            await settle(priya_pilot)
            await priya_pilot.press("a")
            assert isinstance(priya.screen, ConfirmModal)
            await priya_pilot.press("y")
            await settle(priya_pilot)
            assert "Docs site bounty" not in pending_memos(priya_ledger)
        await until(maya_pilot, lambda: "Docs site bounty" not in pending_memos(maya_ledger),
                    "maya's ledger drops the approved request")
        assert maya.screen is maya_ledger
        page = await maya.backend.tokenization.list_requests(maya_ledger.project_id, limit=200)
        assert next(r for r in page.items if r.id == req.id).status == "approved"


async def test_a_request_made_by_another_process_shows_and_counts_in_the_badge(demo_spec: LaunchSpec) -> None:
    """A script (another process's service layer, in its own thread and loop) makes a token
    request as devon; maya's open ledger lists it and her unread badge goes up by one."""
    from crewos_tui import paths
    from crewos_tui.backend.local.services import Services
    from crewos_tui.backend.schemas import TokenRequestCreate

    from .conftest import fast_settings

    maya = make_app(demo_spec)
    async with maya.run_test(size=SIZE) as pilot:
        ledger = await open_ledger(pilot)
        assert maya.session is not None
        unread = maya.session.unread
        assert unread is not None

        async def devon_asks() -> None:
            svc = await Services.open(paths.database_file(demo_spec.data_dir, demo=True), settings=fast_settings())
            try:
                devon = await svc.auth.principal_for("devon")
                await svc.tokenization.create_request(devon, ledger.project_id, TokenRequestCreate(
                    kind="transfer", amount=5_000, from_wallet="atlas-treasury", to_wallet="devon",
                    memo="From another process"))
            finally:
                await svc.close()

        await asyncio.to_thread(asyncio.run, devon_asks())
        await until(pilot, lambda: "From another process" in pending_memos(ledger), "the request is listed")
        await until(pilot, lambda: maya.session is not None and maya.session.unread == unread + 1,
                    "the badge counts maya's new notification")
