"""Issue 16, item 4: after ``[``/``]`` the keyboard belongs to the newly shown tab, and
the board is one focus stop followed by the jobs panel."""

from __future__ import annotations

from textual.widgets import DataTable, OptionList, TabbedContent

from crewos_tui.launch import LaunchSpec
from crewos_tui.screens.admin import AdminScreen
from crewos_tui.screens.board import BoardScreen
from crewos_tui.screens.projects import ProjectsScreen

from .app_support import make_app, open_mode, settle

SIZE = (80, 24)


async def test_projects_tab_switch_focuses_the_new_tabs_list(demo_spec: LaunchSpec) -> None:
    async with make_app(demo_spec).run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, ProjectsScreen)
        screen.detail.query_one(TabbedContent).focus()  # where a click on the tab bar leaves it
        await settle(pilot)
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert screen.current_view() == "documents"
        docs = screen.detail.tables["documents"]
        assert pilot.app.focused is docs
        start = docs.cursor_row
        list_row = screen.project_table.cursor_row
        await pilot.press("down")
        await settle(pilot)
        assert len(docs.items) < 2 or docs.cursor_row == start + 1  # the arrows move the docs list
        assert screen.project_table.cursor_row == list_row  # ...not the project list
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert screen.current_view() == "members"
        assert pilot.app.focused is screen.detail.tables["members"]


async def test_admin_tab_switch_focuses_the_new_tabs_content(demo_spec: LaunchSpec) -> None:
    async with make_app(demo_spec).run_test(size=SIZE) as pilot:
        screen = await open_mode(pilot, "0", AdminScreen)
        tabs = screen.query_one("#admin-tabs", TabbedContent)
        tabs.query_one("Tabs").focus()
        await settle(pilot)
        for _ in range(3):  # users → llm → cache → audit
            await pilot.press("right_square_bracket")
            await settle(pilot)
        assert screen.current_view() == "audit"
        focused = pilot.app.focused
        assert focused is not None and tabs.active_pane is not None
        assert tabs.active_pane in focused.ancestors  # inside the shown tab, not on its bar


async def test_the_board_is_one_focus_stop_before_the_jobs_panel(demo_spec: LaunchSpec) -> None:
    async with make_app(demo_spec).run_test(size=(120, 40)) as pilot:
        board = await open_mode(pilot, "2", BoardScreen)
        await pilot.press("J")
        await settle(pilot)
        await pilot.press("l", "l")  # Review
        await settle(pilot)
        assert pilot.app.focused is board.columns["review"].cards
        await pilot.press("tab")
        await settle(pilot)
        assert isinstance(pilot.app.focused, DataTable) and pilot.app.focused.id == "jobs-table"
        await pilot.press("shift+tab")  # back into the board, on the column it left
        await settle(pilot)
        assert pilot.app.focused is board.columns["review"].cards
        await pilot.press("h")
        await settle(pilot)
        assert pilot.app.focused is board.columns["in_progress"].cards
        chain = [w for w in board.focus_chain if isinstance(w, OptionList)]
        assert chain == [board.columns["in_progress"].cards]
