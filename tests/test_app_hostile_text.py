"""Hostile text from a backend is shown literally on every screen and dialog (issue 14).

Members write names, titles and messages full of Rich markup, terminal escapes (clear
screen, OSC 52 clipboard, OSC 8 hyperlink, window title, a C1 CSI, NUL) and bidi
overrides into every kind of thing they can write that the admin reads
(``tests/hostile_support.py``: 13 kinds, from user names to notifications). The demo
admin (maya) then opens 10 screens and 28 dialogs and detail views on that text. The
app must not crash on the markup, must not turn ``[@click=...]`` into an action, and
must never put an escape byte on the screen. The counts are checked at the end of the
tests, so this docstring cannot drift from what they do.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from textual.pilot import Pilot

from crewos_tui.launch import LaunchSpec
from crewos_tui.screens.projects import ProjectsScreen
from crewos_tui.screens.registry import MODES
from crewos_tui.widgets.confirm import ConfirmModal
from crewos_tui.widgets.forms import FormModal

from .app_support import make_app, settle
from .hostile_support import HOSTILE_NAME, KINDS, SHOWN, Seeded, seed_hostile

SIZE = (160, 50)
#: What must never reach the screen: C0 controls (but line breaks), DEL, C1, bidi controls.
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
#: What the tests below open; the module docstring says the same (the last test checks it).
SCREENS, PROJECT_VIEWS, NOTIFIED_VIEWS, OTHER_VIEWS = 10, 7, 13, 8


def screen_text(pilot: Pilot[Any]) -> str:
    """Every character the current screen would write, as the compositor renders it."""
    strips = pilot.app.screen._compositor.render_strips()  # the rendered lines, not the DOM
    return "\n".join("".join(seg.text for seg in strip if not seg.control) for strip in strips)


class Captures:
    def __init__(self) -> None:
        self.texts: list[str] = []
        self.screens: list[str] = []
        self.dialogs: list[str] = []

    def take(self, pilot: Pilot[Any], where: str) -> str:
        text = screen_text(pilot)
        raw = RAW.findall(text)
        assert not raw, f"{where}: raw control characters on screen: {raw!r}"
        svg = pilot.app.export_screenshot()
        assert "\x1b" not in svg and "\x07" not in svg and "\u202e" not in svg, where
        self.texts.append(text)
        return text

    def screen(self, pilot: Pilot[Any], where: str) -> str:
        self.screens.append(where)
        return self.take(pilot, where)

    def dialog(self, pilot: Pilot[Any], where: str, expect: type | None = None) -> str:
        """A dialog or detail view: ``expect`` is the modal screen it must be."""
        if expect is not None:
            assert isinstance(pilot.app.screen, expect), (where, pilot.app.screen)
        self.dialogs.append(where)
        return self.take(pilot, where)

    @property
    def everything(self) -> str:
        return "\n".join(self.texts)


async def seeded(spec: LaunchSpec) -> Seeded:
    assert spec.data_dir is not None
    return await seed_hostile(spec.data_dir)


async def press_mode(pilot: Pilot[Any], key: str) -> None:
    pilot.app.screen.set_focus(None)  # a focused input (the chat box) would take the digit
    await pilot.press(key)
    await settle(pilot)


async def close(pilot: Pilot[Any], key: str = "escape") -> None:
    await pilot.press(key)
    await settle(pilot)


@pytest.mark.parametrize("keys", ["12345", "67890"])  # two halves: each is a short test of its own
async def test_hostile_text_is_literal_on_every_screen(demo_spec: LaunchSpec, keys: str) -> None:
    seed = await seeded(demo_spec)
    app = make_app(demo_spec)
    seen = Captures()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for key in keys:
            mode = next(m for m in MODES if m.key == key)
            await press_mode(pilot, key)
            assert app.is_running, f"screen {key} ended the app"
            assert app.current_mode == mode.name, (key, app.current_mode)
            seen.screen(pilot, f"screen {key} ({mode.name})")
    assert "[@click=app.quit]Q[/]" in seen.everything  # shown, as written
    assert len(seen.screens) == len(keys) and seed.kinds == list(KINDS)
    assert sorted("1234567890") == sorted(m.key for m in MODES)  # the two halves are every screen


async def test_hostile_text_is_literal_in_the_project_views_and_dialogs(demo_spec: LaunchSpec) -> None:
    seed = await seeded(demo_spec)
    pid = seed.project_id
    app = make_app(demo_spec)
    seen = Captures()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ProjectsScreen)
        screen.project_table.focus()
        assert screen.project_table.select_key(pid)
        await settle(pilot)
        assert screen.project is not None and screen.project.id == pid
        projects = seen.dialog(pilot, "projects, hostile project selected")
        assert "[@click=app.quit]Q[/]" in projects and SHOWN["clear"] in projects

        for tab, what in (("members", "␛[2JZQ8"), ("documents", "ZQ7"), ("updates", "docs/zq")):
            screen.detail.activate(tab)
            await settle(pilot)
            assert what in seen.dialog(pilot, f"projects, {tab} tab"), tab

        await pilot.press("e")
        await settle(pilot)
        edit = seen.dialog(pilot, "edit dialog", FormModal)
        assert "[@click=app.quit]" in edit and SHOWN["clear"] in edit  # the TextInput draws it visibly
        await close(pilot)

        await pilot.press("x")
        await settle(pilot)
        archive = seen.dialog(pilot, "archive dialog", ConfirmModal)
        assert "[@click=app.quit]" in archive and SHOWN["clear"] in archive
        # The markup did not become a clickable action: clicking all along the quoted name
        # (where "[@click=app.quit]Q" would have been a link) leaves the app running.
        for x in range(40):
            await pilot.click(".dialog-note", offset=(x, 0))
        await settle(pilot)
        assert app.is_running
        if isinstance(app.screen, ConfirmModal):
            await close(pilot, "n")
        assert app.is_running

        assert app.backend is not None
        project = await app.backend.projects.get(pid)
        assert str(getattr(project.status, "value", project.status)) != "archived"  # nothing was confirmed

        # Priya's access request to a project of maya's, with its message.
        website = next(p for p in screen.project_table.items if p.name == "Website Refresh")
        assert screen.project_table.select_key(website.id)
        await settle(pilot)
        screen.detail.activate("requests")
        await settle(pilot)
        assert SHOWN["clear"] in seen.dialog(pilot, "projects, access requests tab")

    everything = seen.everything
    assert SHOWN["clipboard"] in everything  # the OSC 52 sequence shows as text
    assert "\ufffdevil" in everything  # the bidi override is a visible mark
    assert "[link=http://e.x]L[/link]" in everything
    assert len(seen.dialogs) == PROJECT_VIEWS


async def test_hostile_text_is_literal_where_notifications_lead(demo_spec: LaunchSpec) -> None:
    """The views that show one hostile thing in full, reached as maya would: from the
    notifications it caused (their previews are views too), and the dialogs there."""
    from crewos_tui.screens.board import BoardScreen
    from crewos_tui.screens.ledger import LedgerScreen
    from crewos_tui.screens.notifications import NotificationsScreen
    from crewos_tui.screens.review import ReviewScreen
    from crewos_tui.screens.sessions import SessionsScreen
    from crewos_tui.widgets.project_picker import ProjectPicker
    from crewos_tui.widgets.review_modals import ReasonModal
    from crewos_tui.widgets.task_detail import TaskDetailScreen

    seed = await seeded(demo_spec)
    app = make_app(demo_spec)
    seen = Captures()

    async def from_notification(kind: str, target: type) -> Any:
        """Open the notifications, show the newest one of ``kind``, follow it."""
        await press_mode(pilot, "5")
        screen = app.screen
        assert isinstance(screen, NotificationsScreen)
        note = next(n for n in screen.table.items if n.kind == kind)
        screen.table.focus()
        assert screen.table.select_key(note.id)
        await settle(pilot)
        seen.dialog(pilot, f"notification {kind} (preview)")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, target), (kind, app.screen)
        return app.screen

    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)

        # The task assigned to maya: the board opens its detail.
        await from_notification("task.assigned", TaskDetailScreen)
        detail = seen.dialog(pilot, "task detail", TaskDetailScreen)
        assert SHOWN["clear"] in detail and "␛[2JZQ8" in detail  # devon's text, and eve's comment under her name
        await pilot.press("c")
        await settle(pilot)
        seen.dialog(pilot, "task comment form", FormModal)
        await close(pilot)
        await close(pilot)
        board = app.screen
        assert isinstance(board, BoardScreen) and board.project is not None
        assert board.project.id == seed.project_id
        await pilot.press("p")
        await settle(pilot)
        assert SHOWN["clear"] in seen.dialog(pilot, "project picker", ProjectPicker)
        await close(pilot)

        # The review item: its preview (title, summary, payload, transcript), then a reject reason.
        review = await from_notification("review.requested", ReviewScreen)
        assert review.current is not None and review.current.id == seed.review_id
        assert SHOWN["clear"] in seen.dialog(pilot, "review item preview")
        review.table.focus()
        await pilot.press("r")
        await settle(pilot)
        assert SHOWN["clear"] in seen.dialog(pilot, "reject reason", ReasonModal)
        await close(pilot)

        # The token request waiting for maya: the ledger shows it, approving asks first.
        ledger = await from_notification("token.request_awaiting_approval", LedgerScreen)
        assert ledger.selected_request is not None and ledger.selected_request.id == seed.token_request_id
        assert SHOWN["clear"] in seen.dialog(pilot, "token request impact")
        await pilot.press("a")
        await settle(pilot)
        assert SHOWN["clear"] in seen.dialog(pilot, "approve confirmation", ConfirmModal)
        await close(pilot, "n")

        # The shared session, and the mention in it: the sessions screen shows the transcript.
        await from_notification("session.shared", SessionsScreen)
        assert SHOWN["clear"] in seen.dialog(pilot, "shared session transcript")
        await from_notification("chat.mention", SessionsScreen)
        assert app.is_running

    assert len(seen.dialogs) == NOTIFIED_VIEWS


async def test_hostile_text_is_literal_in_knowledge_admin_and_app_dialogs(demo_spec: LaunchSpec) -> None:
    from textual.command import CommandPalette

    from crewos_tui.screens.account import AccountScreen
    from crewos_tui.screens.admin import AdminScreen
    from crewos_tui.screens.artifact import ArtifactScreen
    from crewos_tui.screens.help import HelpScreen
    from crewos_tui.screens.knowledge import KnowledgeScreen
    from crewos_tui.widgets.notification_prefs import PreferencesModal

    seed = await seeded(demo_spec)
    app = make_app(demo_spec)
    seen = Captures()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # Notification preferences list the projects, the hostile one among them.
        await press_mode(pilot, "5")
        await pilot.press("p")
        await settle(pilot)
        assert SHOWN["clear"] in seen.dialog(pilot, "notification preferences", PreferencesModal)
        await close(pilot)

        # The knowledge entry (markdown body, tags) and the artifact (name, source).
        await press_mode(pilot, "7")
        knowledge = app.screen
        assert isinstance(knowledge, KnowledgeScreen)
        knowledge.open_entry(seed.entry_id)
        await settle(pilot)
        assert SHOWN["clear"] in seen.dialog(pilot, "knowledge entry")
        app.push_screen(ArtifactScreen(seed.artifact_token))
        await settle(pilot)
        artifact = seen.dialog(pilot, "artifact", ArtifactScreen)
        assert SHOWN["clear"] in artifact and SHOWN["nul"] in artifact  # the source editor too
        await close(pilot)

        # The admin's user list and edit form show eve's name and team.
        await press_mode(pilot, "0")
        admin = app.screen
        assert isinstance(admin, AdminScreen)
        users = admin.table("users")
        users.focus()
        assert users.select_key(next(u.id for u in users.items if u.username == HOSTILE_NAME))
        await settle(pilot)
        assert "eve[b]␛[2JZQ8" in seen.dialog(pilot, "admin users, eve selected")
        await pilot.press("e")
        await settle(pilot)
        assert "eve[b]␛[2JZQ8" in seen.dialog(pilot, "edit user", FormModal)
        await close(pilot)

        # Help, the command palette and the account screen, over the hostile screens.
        await press_mode(pilot, "1")
        for key, what, cls in (("question_mark", "help", HelpScreen), ("ctrl+p", "command palette", CommandPalette),
                               ("A", "account", AccountScreen)):
            app.screen.set_focus(None)  # the filter box would take the key
            await pilot.press(key)
            await settle(pilot)
            seen.dialog(pilot, what, cls)
            await close(pilot)
        assert app.is_running

    assert len(seen.dialogs) == OTHER_VIEWS


def test_the_docstring_counts_what_the_tests_open() -> None:
    assert __doc__ is not None
    words = " ".join(__doc__.split())
    assert f"{SCREENS} screens and {PROJECT_VIEWS + NOTIFIED_VIEWS + OTHER_VIEWS} dialogs and detail views" in words
    assert f"{len(KINDS)} kinds" in words
