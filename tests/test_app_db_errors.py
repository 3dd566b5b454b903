"""The TUI on a database that cannot be used: one line naming the file, as a notification;
the app keeps running. At start (damaged, newer schema) and while working (the file turns
read-only under it)."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from crewos_tui import paths
from crewos_tui.launch import LaunchSpec
from crewos_tui.screens.projects import ProjectsScreen

from .app_support import Notes, make_app, settle
from .db_faults import FAULTS, break_database, read_only

SIZE = (120, 40)


def single_error(notes: Notes | list[str], *words: str) -> str:
    found = [m for m in (notes.errors() if isinstance(notes, Notes) else notes) if "database" in m]
    assert len(found) == 1, found
    line = found[0]
    assert "\n" not in line and "Traceback" not in line and "sqlalchemy" not in line.lower(), line
    for word in words:
        assert word in line, (word, line)
    return line


@pytest.mark.parametrize("fault", ["garbage", "newer"])
async def test_starting_on_an_unusable_database_shows_one_line_and_keeps_running(demo_spec: LaunchSpec, fault: str):
    db = paths.database_file(demo_spec.data_dir, demo=True)
    break_database(db, fault)
    app = make_app(demo_spec)
    notes = Notes(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        single_error(notes, f"database {db}:", FAULTS[fault])
        assert app.is_running and app.backend is None
        assert app.session is not None and app.session.health == "offline"


async def test_a_write_refused_by_a_read_only_file_is_one_line_and_the_app_goes_on(demo_spec: LaunchSpec):
    db = paths.database_file(demo_spec.data_dir, demo=True)
    app = make_app(demo_spec)
    notes = Notes(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ProjectsScreen)
        backend: Any = app.backend
        before = {p.name for p in (await backend.projects.list(limit=200)).items}
        # While any connection keeps the WAL open, SQLite writes to the -wal file, not the
        # database file: close them all (the commit watch holds one of its own) first.
        await backend.services.stop_background()
        with read_only(db):
            await backend.services.ctx.db.engine.dispose()  # connections opened from now on meet the mode
            refusal = await create_project(pilot, "Written on a read-only disk")
            # The form shows the refusal where the user typed, as it does every refusal.
            single_error([refusal or "", *notes.errors()], f"database {db}:", "read-only")
            assert app.is_running
            assert {p.name for p in (await backend.projects.list(limit=200)).items} == before
        await backend.services.ctx.db.engine.dispose()
        await backend.services.start_background()
        assert await create_project(pilot, "Written again") is None
        assert "Written again" in {p.name for p in (await backend.projects.list(limit=200)).items}


async def create_project(pilot: Pilot[Any], name: str) -> str | None:
    """Create a project by keys; the form's error line if it refused (then closed), else None."""
    await pilot.press("n")
    await settle(pilot)
    await pilot.press(*[{" ": "space"}.get(c, c) for c in name])
    await pilot.press("enter")
    await settle(pilot)
    app: Any = pilot.app
    if isinstance(app.screen, ProjectsScreen):
        return None
    refusal = str(app.screen.query_one("#form-error").render())
    await pilot.press("escape")
    await settle(pilot)
    return refusal
