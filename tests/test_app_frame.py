"""The frame around every screen: status bar, help overlay, command palette,
account panel, mode keys."""

from __future__ import annotations

from typing import Any

from textual.widgets import DataTable

from crewos_tui.launch import LaunchSpec
from crewos_tui.screens.account import AccountScreen
from crewos_tui.screens.help import HelpScreen
from crewos_tui.screens.projects import ProjectsScreen
from crewos_tui.widgets.forms import FormModal
from crewos_tui.widgets.status_bar import StatusBar

from .app_support import make_app, settle

SIZE = (80, 24)


def status_text(app: Any) -> str:
    return str(app.screen.query_one(StatusBar).render())


async def test_status_bar_shows_profile_badge_user_and_health(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = status_text(app)
        for part in ("1 Projects", "demo", "DEMO", "maya (admin)", "online", "✉"):
            assert part in text, (part, text)


async def test_help_lists_every_key_with_its_binding_id(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one(DataTable)
        ids = {str(table.get_row_at(i)[2]) for i in range(table.row_count)}
        for binding in (*ProjectsScreen.BINDINGS, *type(app).BINDINGS):
            assert binding.id in ids  # type: ignore[union-attr]
        await pilot.press("escape")
        assert isinstance(app.screen, ProjectsScreen)


async def test_palette_lists_screens_and_runs_screen_actions(demo_spec: LaunchSpec) -> None:
    from crewos_tui.commands_palette import CrewOSCommands

    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        provider = CrewOSCommands(app.screen)
        names = [name for name, _help, _cb in provider._commands()]
        assert "Go to Projects" in names and "Projects: New" in names and "Quit" in names
        await pilot.press("ctrl+p")
        await pilot.press(*"new")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, FormModal)


async def test_palette_switches_to_the_tab_an_action_needs(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ProjectsScreen) and screen.detail.active_tab == "members"
        atlas = next(p for p in screen.project_table.items if p.name == "Atlas Launch")
        screen.project_table.select_key(atlas.id)  # an active project: archived ones are read-only
        await settle(pilot)
        screen.run_from_palette("upload")
        await settle(pilot)
        assert screen.detail.active_tab == "documents"
        assert isinstance(app.screen, FormModal)


async def test_account_panel_in_local_mode(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("A")
        assert isinstance(app.screen, AccountScreen)
        facts = str(app.screen.query_one("#account-facts").render())
        assert "demo (DEMO)" in facts and "maya (admin)" in facts
        await pilot.press("escape")
        assert isinstance(app.screen, ProjectsScreen)


async def test_mode_key_switches_to_projects(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("1")
        assert isinstance(app.screen, ProjectsScreen)
        assert app.current_mode == "projects"
