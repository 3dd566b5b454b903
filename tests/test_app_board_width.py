"""Issue 16, item 12: board columns share the width, titles take two lines, and ``z``
folds empty columns to a strip with their name and count (snapshots at both sizes)."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from crewos_tui.launch import LaunchSpec
from crewos_tui.screens.board import BoardScreen
from crewos_tui.widgets.kanban import split_title

from .app_support import make_app, open_mode, settle

SIZES = pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])


def test_split_title_breaks_at_a_space_and_keeps_the_rest() -> None:
    assert split_title("Load test: 10,000 tasks on one board", 14) == ("Load test:", "10,000 tasks on one board")
    assert split_title("Short", 14) == ("Short", "")
    assert split_title("Supercalifragilistic", 8) == ("Supercal", "ifragilistic")
    assert split_title("漢字漢字漢字", 5) == ("漢字", "漢字漢字")  # by cells, not characters


async def _harbor(pilot: Pilot[Any]) -> BoardScreen:
    board = await open_mode(pilot, "2", BoardScreen)
    await pilot.press("p", "h", "a", "r", "b", "enter")
    await settle(pilot)
    assert board.project is not None and board.project.name == "Harbor Research"
    return board


async def test_z_folds_empty_columns_and_the_focus_skips_them(demo_spec: LaunchSpec) -> None:
    async with make_app(demo_spec).run_test(size=(80, 24)) as pilot:
        board = await _harbor(pilot)
        empty = [s for s in ("todo", "in_progress", "review", "blocked", "done") if not board.columns[s].tasks]
        assert empty, "the demo's Harbor project has empty columns"
        await pilot.press("z")
        await settle(pilot)
        for status in empty:
            column = board.columns[status]
            assert column.has_class("-folded") and column.size.width <= 14
        widths = [board.columns[s].size.width for s in ("todo", "review", "done")]
        assert sum(widths) > 80 - 14 * len(empty) - 5  # the open columns take the width the folded ones left
        await pilot.press("home")
        board._focus("todo")
        for _ in range(4):
            await pilot.press("l")
            await settle(pilot)
            assert board._focus_status not in empty
        await pilot.press("z")
        await settle(pilot)
        assert not any(board.columns[s].has_class("-folded") for s in empty)


async def test_titles_wrap_to_the_column_width(demo_spec: LaunchSpec) -> None:
    async with make_app(demo_spec).run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        board = pilot.app.screen
        assert isinstance(board, BoardScreen)
        column = board.columns["todo"]
        assert column.wrap_width > 15
        prompt = column.cards.get_option_at_index(0).prompt
        first, second = str(prompt).split("\n")[:2]
        assert first + " " + second == "Load test: 10,000 tasks on one board"[: len(first) + 1 + len(second)]
        assert first.startswith("Load test:") and second  # two lines of title


@SIZES
def test_board_folded_empty_columns(snap_compare: Any, demo_spec: LaunchSpec, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await _harbor(pilot)
        await pilot.press("z")
        await settle(pilot)

    assert snap_compare(make_app(demo_spec), terminal_size=size, run_before=run_before)
