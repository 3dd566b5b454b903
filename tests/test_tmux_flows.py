"""The four main flows by keyboard alone, in a real terminal at 80x24 (tmux): review,
board, chat with a project, ledger approve. Each flow's effect is read back from the
database by a service layer of the test's own, and each counts its keystrokes: the
budget is what the flow takes today, so a change that makes it longer fails here."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from crewos_tui import paths
from crewos_tui.backend.local.services import Services

from .conftest import fast_settings
from .tmux_support import Terminal, wait_for

pytestmark = pytest.mark.pty

T = TypeVar("T")
FIRST_REVIEW = "Weekly update: Atlas beta"  # the oldest pending item: first in the queue


def read(data: Path, query: Callable[[Services, Any], Awaitable[T]]) -> T:
    """``query(services, maya)`` on the demo database the app writes."""
    async def run() -> T:
        services = await Services.open(paths.database_file(data, demo=True), settings=fast_settings())
        try:
            return await query(services, await services.auth.principal_for("maya"))
        finally:
            await services.close()

    return asyncio.run(run())


def eventually(data: Path, query: Callable[[Services, Any], Awaitable[object]], what: str,
               timeout: float = 30) -> None:
    wait_for(lambda: read(data, query), timeout, what)


async def atlas_id(services: Services, maya: Any) -> str:
    page = await services.projects.list(maya, q="Atlas Launch", limit=5)
    return next(p.id for p in page.items if p.name == "Atlas Launch")


@pytest.fixture
def terminal(tmp_path: Path, request: pytest.FixtureRequest):
    term = Terminal(tmp_path, env={"CREWOS_TUI_REVIEW_UNDO": "1"}, name=request.node.name[:20])
    try:
        term.wait_for_text("Atlas Launch", 60)
        yield term
        term.quit_cleanly()
    finally:
        term.close()


def test_review_one_key_per_decision(terminal: Terminal) -> None:
    terminal.press("4")
    terminal.wait_for_text(FIRST_REVIEW[:20])
    before = terminal.keystrokes
    terminal.press("a")
    terminal.wait_for_text("undoes approve")
    assert terminal.keystrokes - before == 1  # one key per decision (it auto-advances)

    async def first_approved(services: Services, maya: Any) -> bool:
        page = await services.review.list(maya, state=None, q=FIRST_REVIEW, limit=10)
        return any(i.title == FIRST_REVIEW and i.state.value == "approved" for i in page.items)

    eventually(terminal.data, first_approved, "the approval in the database")


def test_board_new_task_and_move_it(terminal: Terminal) -> None:
    title = "Tmux flow card"
    terminal.press("2")
    terminal.wait_for_text("Load test")  # the first card: the board has loaded
    before = terminal.keystrokes
    terminal.press("n")
    terminal.wait_for_text("Title")
    terminal.type(title)
    terminal.press("Enter")
    terminal.wait_for_text(f"Created {title}")
    time.sleep(1.0)  # the board reloads and puts the cursor on the new card, as a person would wait
    terminal.press(">")  # the new card has the cursor: one key moves it on

    async def moved(services: Services, maya: Any) -> bool:
        page = await services.tasks.list(maya, project_id=await atlas_id(services, maya), q=title, limit=5)
        return any(t.title == title and t.status.value == "in_progress" for t in page.items)

    eventually(terminal.data, moved, "the new task in progress")
    assert terminal.keystrokes - before == 3 + len(title)


def test_ledger_approve_a_request(terminal: Terminal) -> None:
    terminal.press("6")
    terminal.wait_for_text("Docs site bounty")  # the newest pending request has the cursor
    before = terminal.keystrokes
    terminal.press("a")
    terminal.wait_for_text("Approve the transfer")
    terminal.press("y")
    terminal.wait_for_text("is approved")
    assert terminal.keystrokes - before == 2

    async def approved(services: Services, maya: Any) -> bool:
        page = await services.tokenization.list_requests(maya, await atlas_id(services, maya), limit=50)
        return any(r.memo == "Docs site bounty" and r.status.value == "approved" for r in page.items)

    eventually(terminal.data, approved, "the approval in the database")


def test_chat_with_a_project(terminal: Terminal) -> None:
    """Chat screen, choose the project with the fuzzy picker (a few letters, Enter), send:
    a new session in that project holds the message and the agent's reply."""
    message = "What is waiting for review"

    async def atlas_sessions(services: Services, maya: Any) -> dict[str, int]:
        page = await services.sessions.list(maya, limit=100, project_id=await atlas_id(services, maya))
        return {s.id: s.message_count for s in page.items}

    known = read(terminal.data, atlas_sessions)
    terminal.press("3")
    terminal.wait_for_text("Enter sends")
    before = terminal.keystrokes
    terminal.press("C-o")
    terminal.wait_for_text("Harbor")  # the picker lists the projects
    terminal.type("atl")
    terminal.press("Enter")
    terminal.wait_for_text("Project Atlas Launch")  # the picker has closed: the chat is bound to it
    picking = terminal.keystrokes - before
    terminal.type(message)
    terminal.press("Enter")

    async def answered(services: Services, maya: Any) -> bool:
        now = await atlas_sessions(services, maya)
        return any(n >= 2 for sid, n in now.items() if sid not in known)

    try:
        eventually(terminal.data, answered, "a new chat session in Atlas Launch with a reply", timeout=60)
    except AssertionError as e:
        raise AssertionError(f"{e}\n{terminal.pane()}") from None
    assert picking == 5  # ctrl+o, three letters, Enter (about 11 keys with the old Select)


def test_escape_then_a_digit_leaves_a_filter_and_switches_screens(terminal: Terminal) -> None:
    """Escape and 3 in one write (as SSH and tmux deliver them inside ~50 ms): the filter
    is left as typed and chat opens, where Textual alone would type '£' into the filter."""
    terminal.press("/")
    terminal.type("atl")
    terminal.wait_for_text("atl")
    terminal.tm("send-keys", "-t", "crewos", "-H", "1b", "33")  # ESC '3', one write
    terminal.wait_for_text("Enter sends")  # the chat screen
    terminal.press("1")
    screen = terminal.wait_for_text("Atlas Launch")
    assert "£" not in screen and "atl3" not in screen
