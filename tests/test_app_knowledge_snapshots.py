"""Snapshots of the knowledge screen at 80x24 and 120x40: search results with
highlighted snippets, an entry with its links, the governance queue, and an artifact
(demo data: fixed ids, times and tokens; every worker finished before the capture)."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from crewos_tui.launch import LaunchSpec

from .app_support import make_app, settle

SIZES = pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])


async def searched(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await pilot.press("7")
    await settle(pilot)
    await pilot.press("slash", "l", "e", "a", "s", "e")
    await pilot.pause(0.3)
    await settle(pilot)
    await pilot.press("enter")  # from the search box to the results
    await settle(pilot)


@SIZES
def test_search_results(snap_compare: Any, demo_spec: LaunchSpec, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(demo_spec), terminal_size=size, run_before=searched)


@SIZES
def test_entry_with_links(snap_compare: Any, demo_spec: LaunchSpec, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await searched(pilot)
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(make_app(demo_spec), terminal_size=size, run_before=run_before)


@SIZES
def test_governance_queue(snap_compare: Any, demo_spec: LaunchSpec, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("7")
        await settle(pilot)
        await pilot.press("right_square_bracket", "right_square_bracket", "right_square_bracket")
        await settle(pilot)

    assert snap_compare(make_app(demo_spec), terminal_size=size, run_before=run_before)


@SIZES
def test_generated_files(snap_compare: Any, demo_spec: LaunchSpec, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("7")
        await settle(pilot)
        await pilot.press("left_square_bracket")  # Generated: the last tab
        await settle(pilot)

    assert snap_compare(make_app(demo_spec), terminal_size=size, run_before=run_before)


@SIZES
def test_artifact(snap_compare: Any, demo_spec: LaunchSpec, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("7")
        await settle(pilot)
        await pilot.press("left_square_bracket")  # Generated: the last tab
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(make_app(demo_spec), terminal_size=size, run_before=run_before)


@SIZES
def test_entry_without_links(snap_compare: Any, demo_spec: LaunchSpec, size: tuple[int, int]) -> None:
    """The links list of an entry that has none says so in a whole sentence."""

    async def run_before(pilot: Pilot[Any]) -> None:
        from crewos_tui.backend.schemas.knowledge import KnowledgeSearch
        from crewos_tui.screens.knowledge import KnowledgeScreen

        await settle(pilot)
        await pilot.press("7")
        await settle(pilot)
        backend: Any = pilot.app.backend  # pyright: ignore[reportAttributeAccessIssue]
        hits = (await backend.knowledge.search(KnowledgeSearch(query="the"))).items
        lonely = [h.entry.id for h in hits if not (await backend.knowledge.list_links(h.entry.id, limit=1)).items]
        screen = pilot.app.screen
        assert isinstance(screen, KnowledgeScreen) and lonely
        screen.open_entry(sorted(lonely)[0])
        await settle(pilot)

    assert snap_compare(make_app(demo_spec), terminal_size=size, run_before=run_before)
