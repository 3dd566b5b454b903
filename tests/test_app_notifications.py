"""Pilot tests of the notifications screen and the unread badge (local demo), checked
against the backend: read, dismiss, read all (with its bound), jump, filters,
preferences, and the badge and toasts following another client's changes."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from textual.widgets import Select

from crewos_tui.launch import LaunchSpec
from crewos_tui.screens.notifications import NotificationsScreen
from crewos_tui.screens.projects import ProjectsScreen
from crewos_tui.widgets.confirm import ConfirmModal
from crewos_tui.widgets.notification_prefs import PreferencesModal

from .app_support import Notes, make_app, settle

SIZE = (120, 40)


async def open_screen(pilot: Pilot[Any]) -> NotificationsScreen:
    await settle(pilot)
    await pilot.press("5")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, NotificationsScreen), screen
    return screen


async def select(pilot: Pilot[Any], screen: NotificationsScreen, predicate: Any) -> Any:
    item = next(n for n in screen.table.items if predicate(n))
    assert screen.table.select_key(item.id)
    await pilot.pause()
    return item


async def unread(pilot: Pilot[Any]) -> int:
    return (await pilot.app.backend.notifications.unread_count()).unread


async def filter_kind(pilot: Pilot[Any], screen: NotificationsScreen, kind: str) -> None:
    """Show one kind only (other slices' demo data may push it off the first page)."""
    screen.query_one("#kind-filter", Select).value = kind
    await settle(pilot)
    assert screen.table.items and {n.kind for n in screen.table.items} == {kind}


async def as_user(pilot: Pilot[Any], name: str) -> Any:
    backend = pilot.app.backend
    return backend.as_user(await backend.services.auth.principal_for(name))


async def test_the_badge_shows_the_unread_count_on_every_screen(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        count = await unread(pilot)
        assert count > 0 and app.session is not None and app.session.unread == count
        assert isinstance(app.screen, ProjectsScreen)
        assert f"✉ {count}" in str(app.screen.query_one("#status-bar").render())
        screen = await open_screen(pilot)
        assert f"✉ {count}" in str(screen.query_one("#status-bar").render())
        first_page = (await app.backend.notifications.list()).items
        assert [(n.id, n.unread) for n in screen.table.items] == [(n.id, n.unread) for n in first_page]
        assert False in {n.unread for n in first_page} or len(first_page) == 50  # demo: some are read


async def test_read_marks_the_selected_one_read(demo_spec: LaunchSpec) -> None:
    async with make_app(demo_spec).run_test(size=SIZE) as pilot:
        screen = await open_screen(pilot)
        before = await unread(pilot)
        target = await select(pilot, screen, lambda n: n.unread)
        await pilot.press("r")
        await settle(pilot)
        page = await pilot.app.backend.notifications.list(kind=target.kind, limit=200)
        assert next(n for n in page.items if n.id == target.id).read_at is not None
        assert await unread(pilot) == before - 1 == pilot.app.session.unread
        assert not next(n for n in screen.table.items if n.id == target.id).unread


async def test_dismiss_removes_it_from_the_list(demo_spec: LaunchSpec) -> None:
    async with make_app(demo_spec).run_test(size=SIZE) as pilot:
        screen = await open_screen(pilot)
        before = await unread(pilot)
        target = await select(pilot, screen, lambda n: n.unread)
        await pilot.press("d")
        await settle(pilot)
        ids = [n.id for n in (await pilot.app.backend.notifications.list(kind=target.kind, limit=200)).items]
        assert target.id not in ids and target.id not in [n.id for n in screen.table.items]
        assert pilot.app.session.unread == before - 1


async def test_read_all_asks_first(demo_spec: LaunchSpec) -> None:
    async with make_app(demo_spec).run_test(size=SIZE) as pilot:
        await open_screen(pilot)
        await pilot.press("R")
        assert isinstance(pilot.app.screen, ConfirmModal)
        before = await unread(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert await unread(pilot) == before > 0
        await pilot.press("R", "y")
        await settle(pilot)
        assert await unread(pilot) == 0 and pilot.app.session.unread == 0


async def test_read_all_leaves_one_that_arrived_while_asking_unread(demo_spec: LaunchSpec) -> None:
    from crewos_tui.backend.schemas import AccessRequestCreate

    async with make_app(demo_spec).run_test(size=SIZE) as pilot:
        screen = await open_screen(pilot)
        shown = {n.id for n in screen.table.items}
        await pilot.press("R")
        assert isinstance(pilot.app.screen, ConfirmModal)
        # While the question is open, Sam asks to join a project Maya owns.
        site = next(p for p in (await pilot.app.backend.projects.list()).items if p.name == "Website Refresh")
        sam = await as_user(pilot, "sam")
        await sam.projects.create_access_request(site.id, AccessRequestCreate(message="late"))
        await pilot.press("y")
        await settle(pilot)
        left = (await pilot.app.backend.notifications.list(unread=True)).items
        assert [n.kind for n in left] == ["project.access_requested"] and left[0].id not in shown
        assert pilot.app.session.unread == 1


async def test_enter_opens_the_linked_project_on_its_tab_and_marks_read(demo_spec: LaunchSpec) -> None:
    async with make_app(demo_spec).run_test(size=SIZE) as pilot:
        screen = await open_screen(pilot)
        await filter_kind(pilot, screen, "project.access_requested")
        target = await select(pilot, screen, lambda n: "Northwind Advisory" in n.title)
        screen.table.focus()
        await pilot.press("enter")
        await settle(pilot)
        projects = pilot.app.screen
        assert isinstance(projects, ProjectsScreen)
        assert projects.project is not None and projects.project.id == target.link.project_id
        assert projects.project.name == "Northwind Advisory" and projects.detail.active_tab == "requests"
        assert [r.username for r in projects.detail.tables["requests"].items] == ["priya"]
        read = next(n for n in (await pilot.app.backend.notifications.list()).items if n.id == target.id)
        assert read.read_at is not None


async def test_filters_unread_and_kind(demo_spec: LaunchSpec) -> None:
    async with make_app(demo_spec).run_test(size=SIZE) as pilot:
        screen = await open_screen(pilot)
        backend = pilot.app.backend.notifications
        everything = [n.id for n in screen.table.items]
        await pilot.press("u")
        await settle(pilot)
        assert [n.id for n in screen.table.items] == [n.id for n in (await backend.list(unread=True)).items]
        assert all(n.unread for n in screen.table.items) and len(screen.table.items) < len(everything)
        await pilot.press("u")
        await settle(pilot)
        assert [n.id for n in screen.table.items] == everything
        kinds = screen.query_one("#kind-filter", Select)
        await filter_kind(pilot, screen, "project.member_added")
        added = (await backend.list(kind="project.member_added")).items
        assert [n.id for n in screen.table.items] == [n.id for n in added] and len(added) == 2
        await pilot.press("k")
        assert pilot.app.focused is kinds


async def test_preferences_form_switches_a_kind_off(demo_spec: LaunchSpec) -> None:
    async with make_app(demo_spec).run_test(size=SIZE) as pilot:
        await open_screen(pilot)
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(pilot.app.screen, PreferencesModal)
        await pilot.press("space")  # the first kind: "You were added to a project"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(pilot.app.screen, NotificationsScreen)
        prefs = await pilot.app.backend.notifications.get_preferences()
        assert {k.kind: k.in_app for k in prefs.kinds}["project.member_added"] is False
        assert sum(not k.in_app for k in prefs.kinds) == 1 and prefs.toasts


async def test_preference_boxes_read_on_and_off_without_colour(demo_spec: LaunchSpec) -> None:
    """Textual draws the same X for on and off; here the plain text says which (✓ / ✗)."""
    from textual.widgets import Checkbox, SelectionList

    async with make_app(demo_spec).run_test(size=SIZE) as pilot:
        await open_screen(pilot)
        await pilot.press("p")
        await settle(pilot)
        modal = pilot.app.screen
        assert isinstance(modal, PreferencesModal)
        kinds = modal.query_one("#prefs-kinds", SelectionList)
        projects = modal.query_one("#prefs-projects", SelectionList)
        toasts = modal.query_one("#prefs-toasts", Checkbox)

        def box(widget: Any, y: int = 0) -> str:
            text = widget.render_line(y).text if isinstance(widget, SelectionList) else widget.render().plain
            return text.lstrip()[:3]

        assert box(kinds) == "▐✓▌" and box(projects) == "▐✗▌" and box(toasts) == "▐✓▌"
        await pilot.press("space")  # the first kind off
        toasts.value = False
        await pilot.pause()
        assert box(kinds) == "▐✗▌" and box(kinds, 1) == "▐✓▌" and box(toasts) == "▐✗▌"
        assert modal.values()["kinds"]["project.member_added"] is False and modal.values()["toasts"] is False


async def test_the_badge_and_a_toast_follow_another_clients_change(demo_spec: LaunchSpec) -> None:
    from crewos_tui.backend.schemas.projects import FolderUpdateCreate

    app = make_app(demo_spec)
    notes = Notes(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        before = app.session.unread
        assert before == await unread(pilot) and isinstance(app.screen, ProjectsScreen)
        harbor = next(p for p in (await app.backend.projects.list()).items if p.name == "Harbor Research")
        priya = await as_user(pilot, "priya")  # another client of the same service layer
        await priya.projects.propose_folder_update(harbor.id, FolderUpdateCreate(action="create", path="maps"))
        await pilot.pause(0.3)
        await settle(pilot)
        assert app.session.unread == before + 1
        assert ("information", "priya proposes: create maps.") in list(notes)


async def test_no_toast_when_toasts_are_off_but_the_badge_still_counts(demo_spec: LaunchSpec) -> None:
    from crewos_tui.backend.schemas import NotificationPreferencesUpdate
    from crewos_tui.backend.schemas.projects import FolderUpdateCreate

    app = make_app(demo_spec)
    notes = Notes(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        before = app.session.unread
        await app.backend.notifications.update_preferences(NotificationPreferencesUpdate(toasts=False))
        harbor = next(p for p in (await app.backend.projects.list()).items if p.name == "Harbor Research")
        priya = await as_user(pilot, "priya")
        await priya.projects.propose_folder_update(harbor.id, FolderUpdateCreate(action="create", path="maps"))
        await pilot.pause(0.3)
        await settle(pilot)
        assert app.session.unread == before + 1
        assert not [m for _, m in notes if "proposes" in m]


async def test_the_open_screen_lists_a_new_one_live(demo_spec: LaunchSpec) -> None:
    from crewos_tui.backend.schemas import AccessRequestCreate

    async with make_app(demo_spec).run_test(size=SIZE) as pilot:
        screen = await open_screen(pilot)
        site = next(p for p in (await pilot.app.backend.projects.list()).items if p.name == "Website Refresh")
        await (await as_user(pilot, "sam")).projects.create_access_request(site.id, AccessRequestCreate())
        await pilot.pause(0.3)
        await settle(pilot)
        assert screen.table.items[0].title == "sam asks to join Website Refresh"


async def test_every_binding_has_an_id() -> None:
    for cls in (NotificationsScreen, PreferencesModal):
        for binding in cls.BINDINGS:
            assert getattr(binding, "id", None), f"{cls.__name__}: {binding}"
