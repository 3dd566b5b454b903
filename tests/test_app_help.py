"""Issue 16, item 5: the ``?`` overlay at 80x24 pages with PgUp/PgDn/Home/End, its note
shows the remap line of the binding under the cursor, and no binding id is cut."""

from __future__ import annotations

from typing import Any, cast

import pytest
from textual.widgets import DataTable, Static

from crewos_tui.launch import LaunchSpec
from crewos_tui.screens.help import HelpScreen
from crewos_tui.screens.registry import MODES

from .app_support import make_app, settle

SMALL = (80, 24)


def hint(screen: HelpScreen) -> str:
    return str(screen.query_one("#help-hint", Static).render())


def id_at_cursor(table: DataTable[Any]) -> str:
    return str(table.get_row_at(table.cursor_row)[2])


async def open_help(pilot: Any, mode_key: str) -> tuple[HelpScreen, DataTable[Any]]:
    await settle(pilot)
    await pilot.press(mode_key)
    await settle(pilot)
    await pilot.press("question_mark")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, HelpScreen)
    return screen, cast("DataTable[Any]", screen.query_one("#help-table", DataTable))


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.name)
async def test_no_binding_id_is_cut_at_80_columns(demo_spec: LaunchSpec, mode: Any) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SMALL) as pilot:
        _, table = await open_help(pilot, mode.key)
        ids = [str(table.get_row_at(i)[2]) for i in range(table.row_count)]
        assert max(map(len, ids)) > 8
        assert table.max_scroll_x == 0  # nothing to scroll to sideways: every column is whole
        id_column = list(table.columns.values())[2]
        assert id_column.get_render_width(table) - 2 * table.cell_padding >= max(map(len, ids))


async def test_home_end_and_the_page_keys_move_through_the_help(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SMALL) as pilot:
        _, table = await open_help(pilot, "2")
        last = table.row_count - 1
        assert table.cursor_row == 1 and last > 20  # on the first key
        await pilot.press("end")
        assert table.cursor_row == last and table.scroll_y == table.max_scroll_y > 0
        await pilot.press("pageup")
        assert 0 < table.cursor_row < last
        await pilot.press("home")
        assert table.cursor_row == 0 and table.scroll_y == 0
        await pilot.press("pagedown")
        assert table.cursor_row > 5


async def test_the_note_shows_the_remap_line_of_the_binding_under_the_cursor(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SMALL) as pilot:
        screen, table = await open_help(pilot, "2")
        first = id_at_cursor(table)  # the cursor starts on the screen's first key
        assert first.startswith("board.") and f'"{first}"' in hint(screen)
        await pilot.press("down", "down")
        third = id_at_cursor(table)
        assert third != first and f'"{third}"' in hint(screen)
        await pilot.press("home")
        assert "<binding id>" in hint(screen)  # the section title row: no binding
        await pilot.press("end")  # the last line (click a header) has no binding to remap
        assert id_at_cursor(table) == "" and "<binding id>" in hint(screen)
        reload_row = next(i for i in range(table.row_count) if str(table.get_row_at(i)[2]) == "board.reload")
        table.move_cursor(row=reload_row)
        await pilot.pause()
        assert hint(screen).endswith('"board.reload" = "ctrl+r"')  # the config spelling, not "^r"
