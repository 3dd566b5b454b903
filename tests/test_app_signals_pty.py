"""The installed ``crewos-tui --demo`` in a real terminal (a private tmux server, 80x24):
``a`` on the review screen, then the process is ended from outside inside the undo
window — SIGTERM, SIGHUP, or the terminal itself closed (what a dropped SSH session
does). The decision must be in the database afterwards, read by a service layer of
the test's own. The undo window is an hour (``CREWOS_TUI_REVIEW_UNDO``), so only the
way out can have sent it."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from crewos_tui import paths
from crewos_tui.backend.local.services import Services

from .conftest import fast_settings
from .tmux_support import Terminal as BaseTerminal
from .tmux_support import wait_for

pytestmark = pytest.mark.pty

FIRST = "Weekly update: Atlas beta"  # the oldest pending item of the demo data: first in the queue


class Terminal(BaseTerminal):
    """``crewos-tui --demo`` with an undo window of an hour: only the way out can send."""

    def __init__(self, tmp_path: Path) -> None:
        super().__init__(tmp_path, env={"CREWOS_TUI_REVIEW_UNDO": "3600"}, name="sig")

    def hold_an_approval(self) -> None:
        self.wait_for_text("Atlas Launch", 60)
        self.press("4")
        self.wait_for_text(FIRST[:20])
        self.press("a")
        self.wait_for_text("undoes approve")


def state_of(data: Path, title: str) -> str:
    async def read() -> str:
        services = await Services.open(paths.database_file(data, demo=True), settings=fast_settings())
        try:
            maya = await services.auth.principal_for("maya")
            page = await services.review.list(maya, state=None, q=title, limit=10)
            [item] = [i for i in page.items if i.title == title]
            return str(item.state.value)
        finally:
            await services.close()

    return asyncio.run(read())


@pytest.fixture
def terminal(tmp_path: Path):
    term = Terminal(tmp_path)
    try:
        yield term
    finally:
        term.close()


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP"])
def test_a_signal_in_the_undo_window_sends_the_decision_and_restores_the_terminal(
        terminal: Terminal, signame: str) -> None:
    terminal.hold_an_approval()
    os.kill(terminal.pid, getattr(signal, signame))
    wait_for(terminal.rc_file.exists, 60, "the app to exit")
    assert terminal.rc_file.read_text().strip() == "0"
    screen = terminal.pane()
    assert "Traceback" not in screen and "not sent" not in screen
    assert "undoes approve" not in screen  # the alternate screen is gone: the terminal is restored
    assert state_of(terminal.data, FIRST) == "approved"
    assert not (terminal.data / "unsent.log").exists()


def test_closing_the_terminal_in_the_undo_window_sends_the_decision(terminal: Terminal) -> None:
    """A dropped SSH session: the terminal goes away (SIGHUP, then reads and writes fail)."""
    terminal.hold_an_approval()
    pid = terminal.pid
    terminal.tm("kill-session", "-t", "crewos")
    wait_for(terminal.exited, 60, f"the app (pid {pid}) to exit")
    assert state_of(terminal.data, FIRST) == "approved"
    assert not (terminal.data / "unsent.log").exists()
