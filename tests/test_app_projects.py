"""Pilot tests: every action of the projects screen, by keyboard, checked against
the backend (not only the screen)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Select

from crewos_tui.launch import LaunchSpec
from crewos_tui.screens.projects import ProjectsScreen
from crewos_tui.widgets.forms import FormModal

from .app_support import Notes, make_app, settle

SIZE = (120, 40)


def screen_of(pilot: Pilot[Any]) -> ProjectsScreen:
    screen = pilot.app.screen
    assert isinstance(screen, ProjectsScreen), screen
    return screen


async def project_id(pilot: Pilot[Any], name: str) -> str:
    page = await pilot.app.backend.projects.list(limit=200)
    return next(p.id for p in page.items if p.name == name)


async def open_project(pilot: Pilot[Any], name: str, tab: str | None = None) -> ProjectsScreen:
    screen = screen_of(pilot)
    assert screen.project_table.select_key(await project_id(pilot, name))
    await settle(pilot)
    assert screen.project is not None and screen.project.name == name
    if tab:
        screen.detail.activate(tab)
        await settle(pilot)
    return screen


async def pick_row(pilot: Pilot[Any], tab: str, predicate: Any) -> Any:
    table = screen_of(pilot).detail.tables[tab]
    item = next(i for i in table.items if predicate(i))
    assert table.select_key(table._row_key(item))
    await pilot.pause()
    return item


async def members(pilot: Pilot[Any], pid: str) -> dict[str, str]:
    page = await pilot.app.backend.projects.list_members(pid)
    return {m.username: str(m.role.value) for m in page.items}


async def type_text(pilot: Pilot[Any], text: str) -> None:
    await pilot.press(*[{" ": "space", "/": "slash", ".": "full_stop", "~": "tilde", "-": "minus",
                         "_": "underscore"}.get(c, c) for c in text])


# ---- the list -------------------------------------------------------------------------


async def test_projects_load_after_first_frame(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = screen_of(pilot)
        names = [p.name for p in screen.project_table.items]
        assert names == ["Quarterly Planning", "Website Refresh", "Northwind Advisory", "Harbor Research",
                         "Atlas Launch"]
        s = app.session
        assert s is not None and (s.username, s.role, s.health, s.badge) == ("maya", "admin", "online", "DEMO")
        assert screen.project is not None and screen.project.name == "Quarterly Planning"
        assert [m.username for m in screen.detail.tables["members"].items] == ["maya"]


async def test_filter_as_you_type_asks_the_backend(demo_spec: LaunchSpec) -> None:
    async with make_app(demo_spec).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await type_text(pilot, "har")
        await settle(pilot)
        screen = screen_of(pilot)
        assert [p.name for p in screen.project_table.items] == ["Harbor Research"]
        assert screen.project is not None and screen.project.name == "Harbor Research"
        await pilot.press("escape")
        assert pilot.app.focused is screen.project_table


async def test_sort_by_column_keys(demo_spec: LaunchSpec) -> None:
    async with make_app(demo_spec).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("s")  # by name, ascending
        table = screen_of(pilot).project_table
        first = str(table.get_row_at(0)[0])  # a Text: names are shown literally
        assert first == "Atlas Launch"
        await pilot.press("S")  # reversed
        assert str(table.get_row_at(0)[0]) == "Website Refresh"


async def test_list_pages_with_next_cursor(demo_spec: LaunchSpec, monkeypatch: Any) -> None:
    from crewos_tui.screens import projects

    monkeypatch.setattr(projects, "PAGE", 2)
    async with make_app(demo_spec).run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = screen_of(pilot).project_table
        assert len(table.items) == 2 and table.next_cursor
        await pilot.press("down")  # the last loaded row: the next page loads
        await settle(pilot)
        assert len(table.items) == 4
        await pilot.press("down", "down")
        await settle(pilot)
        assert len(table.items) == 5 and table.next_cursor is None


# ---- projects -------------------------------------------------------------------------


async def test_create_project(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        assert isinstance(app.screen, FormModal)
        await type_text(pilot, "Moonshot")
        await pilot.press("tab")
        await type_text(pilot, "A new thing")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ProjectsScreen)
        created = next(p for p in (await app.backend.projects.list()).items if p.name == "Moonshot")
        assert created.description == "A new thing" and created.template == "blank"
        assert screen_of(pilot).project is not None and screen_of(pilot).project.id == created.id


async def test_create_project_validation_is_inline(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        before = len((await app.backend.projects.list()).items)
        await pilot.press("n", "enter")  # empty name
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormModal)
        assert "Name is required" in str(form.query_one("#error-name").render())
        await type_text(pilot, "atlas launch")  # taken (names are case-insensitive): 409 from the backend
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is form
        assert "already exists" in str(form.query_one("#form-error").render())
        await pilot.press("escape")
        assert isinstance(app.screen, ProjectsScreen)
        assert len((await app.backend.projects.list()).items) == before


async def test_edit_project(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_project(pilot, "Website Refresh")
        await pilot.press("e")
        await pilot.press("ctrl+a", *["backspace"] * 3)  # select all is not guaranteed: clear by hand
        form = app.screen
        assert isinstance(form, FormModal)
        form.query_one("#field-name").value = "Website Relaunch"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await settle(pilot)
        pid = await project_id(pilot, "Website Relaunch")
        assert (await app.backend.projects.get(pid)).name == "Website Relaunch"


async def test_archive_project_asks_first(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_project(pilot, "Website Refresh")
        pid = screen_of(pilot).project.id  # type: ignore[union-attr]
        await pilot.press("x", "n")  # no
        await settle(pilot)
        assert str((await app.backend.projects.get(pid)).status.value) == "active"
        await pilot.press("x", "y")
        await settle(pilot)
        assert str((await app.backend.projects.get(pid)).status.value) == "archived"


# ---- members --------------------------------------------------------------------------


async def test_add_member(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_project(pilot, "Northwind Advisory", tab="members")
        pid = screen.project.id  # type: ignore[union-attr]
        assert "sam" not in await members(pilot, pid)
        await pilot.press("m")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormModal)
        user = form.query_one("#field-user", Select)
        sam = next(value for label, value in user._options if str(label).startswith("sam"))
        user.value = sam
        form.query_one("#field-role", Select).value = "viewer"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert (await members(pilot, pid))["sam"] == "viewer"
        assert "sam" in [m.username for m in screen.detail.tables["members"].items]


async def test_change_member_role(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_project(pilot, "Atlas Launch", tab="members")
        await pick_row(pilot, "members", lambda m: m.username == "sam")
        await pilot.press("c")
        form = app.screen
        assert isinstance(form, FormModal)
        form.query_one("#field-role", Select).value = "editor"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert (await members(pilot, screen.project.id))["sam"] == "editor"  # type: ignore[union-attr]


async def test_remove_member(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_project(pilot, "Atlas Launch", tab="members")
        await pick_row(pilot, "members", lambda m: m.username == "sam")
        await pilot.press("d", "y")
        await settle(pilot)
        assert "sam" not in await members(pilot, screen.project.id)  # type: ignore[union-attr]


async def test_member_keys_only_work_on_the_members_tab(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_project(pilot, "Atlas Launch", tab="documents")
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ProjectsScreen)  # no confirm dialog opened


# ---- access requests and folder updates -----------------------------------------------


async def test_approve_access_request(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_project(pilot, "Northwind Advisory", tab="requests")
        pid = screen.project.id  # type: ignore[union-attr]
        assert [r.username for r in screen.detail.tables["requests"].items] == ["priya"]
        await pilot.press("a")
        await settle(pilot)
        assert (await members(pilot, pid))["priya"] == "editor"
        assert (await app.backend.projects.list_access_requests(pid, status="pending")).items == []
        assert screen.detail.tables["requests"].items == []


async def test_reject_access_request(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_project(pilot, "Harbor Research", tab="requests")
        pid = screen.project.id  # type: ignore[union-attr]
        await pick_row(pilot, "requests", lambda r: r.username == "sam")
        await pilot.press("r")
        await settle(pilot)
        assert "sam" not in await members(pilot, pid)
        decided = (await app.backend.projects.list_access_requests(pid, status="rejected")).items
        assert [r.username for r in decided] == ["sam"]


async def test_approve_folder_update(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_project(pilot, "Atlas Launch", tab="updates")
        pid = screen.project.id  # type: ignore[union-attr]
        update = await pick_row(pilot, "updates", lambda u: u.path == "docs/runbooks")
        await pilot.press("a")
        await settle(pilot)
        folders = [f.path for f in (await app.backend.projects.list_folders(pid)).items]
        assert "docs/runbooks" in folders
        approved = (await app.backend.projects.list_folder_updates(pid, status="approved")).items
        assert [u.id for u in approved] == [update.id]


async def test_reject_folder_update(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_project(pilot, "Harbor Research", tab="updates")
        pid = screen.project.id  # type: ignore[union-attr]
        await pilot.press("r")
        await settle(pilot)
        assert (await app.backend.projects.list_folder_updates(pid, status="pending")).items == []
        folders = [f.path for f in (await app.backend.projects.list_folders(pid)).items]
        assert "drafts/figures" not in folders


# ---- documents ------------------------------------------------------------------------


async def test_upload_document(demo_spec: LaunchSpec, tmp_path: Path) -> None:
    doc = tmp_path / "plan.md"
    doc.write_text("# Plan\n\nShip it.\n")
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_project(pilot, "Atlas Launch", tab="documents")
        pid = screen.project.id  # type: ignore[union-attr]
        await pilot.press("u")
        form = app.screen
        assert isinstance(form, FormModal)
        form.query_one("#field-path").value = str(tmp_path / "missing.md")  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "No such file" in str(form.query_one("#error-path").render())
        form.query_one("#field-path").value = str(doc)  # type: ignore[attr-defined]
        form.query_one("#field-folder", Select).value = "specs"
        await pilot.press("ctrl+s")
        await settle(pilot)
        docs = {d.filename: d for d in (await app.backend.projects.list_documents(pid)).items}
        assert docs["plan.md"].folder_path == "specs"
        assert "plan.md" in [d.filename for d in screen.detail.tables["documents"].items]


async def test_reingest_document(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_project(pilot, "Atlas Launch", tab="documents")
        pid = screen.project.id  # type: ignore[union-attr]
        brief = await pick_row(pilot, "documents", lambda d: d.filename == "brief.md")
        await pilot.press("i")
        await settle(pilot)
        docs = {d.id: d for d in (await app.backend.projects.list_documents(pid)).items}
        assert docs[brief.id].ingest_count == brief.ingest_count + 1


# ---- errors, live updates, keymap -----------------------------------------------------


async def test_backend_refusal_is_a_notification_and_the_app_keeps_running(demo_spec: LaunchSpec) -> None:
    app = make_app(replace(demo_spec, username="sam"))  # a viewer: may not archive
    notes = Notes(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.session is not None and app.session.username == "sam"
        await open_project(pilot, "Atlas Launch")
        await pilot.press("x", "y")
        await settle(pilot)
        assert notes.errors() and "owner" in notes.errors()[-1]
        assert str((await app.backend.projects.get(screen_of(pilot).project.id)).status.value) == "active"  # type: ignore[union-attr]
        assert app.is_running and isinstance(app.screen, ProjectsScreen)


async def test_viewer_sees_create_refusal_inline(demo_spec: LaunchSpec) -> None:
    app = make_app(replace(demo_spec, username="sam"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await type_text(pilot, "Nope")
        await pilot.press("enter")
        await settle(pilot)
        assert "viewers cannot create projects" in str(app.screen.query_one("#form-error").render())


async def test_unknown_as_user_is_reported_not_raised(demo_spec: LaunchSpec) -> None:
    app = make_app(replace(demo_spec, username="nobody"))
    notes = Notes(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert any("nobody" in m for m in notes.errors())
        assert app.session is not None and app.session.health == "offline"
        assert app.is_running


async def test_live_updates_refresh_the_open_screen(demo_spec: LaunchSpec) -> None:
    from crewos_tui.backend.schemas import ProjectCreate

    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # A change made outside the screen (another local user of the same database).
        devon = await app.backend.services.auth.principal_for("devon")  # type: ignore[union-attr]
        await app.backend.as_user(devon).projects.create(ProjectCreate(name="Made elsewhere"))  # type: ignore[union-attr]
        await pilot.pause(0.3)
        await settle(pilot)
        assert "Made elsewhere" in [p.name for p in screen_of(pilot).project_table.items]


async def test_keymap_rebinds_by_id(demo_spec: LaunchSpec) -> None:
    app = make_app(replace(demo_spec, keymap={"projects.create": "ctrl+n"}))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        assert isinstance(app.screen, ProjectsScreen)
        await pilot.press("ctrl+n")
        assert isinstance(app.screen, FormModal)


async def test_every_binding_has_an_id() -> None:
    from crewos_tui.app import CrewOSApp
    from crewos_tui.screens.account import AccountScreen
    from crewos_tui.screens.help import HelpScreen
    from crewos_tui.screens.login import LoginScreen
    from crewos_tui.widgets.confirm import ConfirmModal

    for cls in (CrewOSApp, ProjectsScreen, FormModal, ConfirmModal, HelpScreen, LoginScreen, AccountScreen):
        for binding in cls.BINDINGS:
            assert getattr(binding, "id", None), f"{cls.__name__}: {binding}"


async def test_archived_project_keys_are_disabled(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_project(pilot, "Quarterly Planning")
        await pilot.press("e")
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, ProjectsScreen)  # neither the form nor the confirm opened
