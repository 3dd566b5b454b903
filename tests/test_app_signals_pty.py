"""The installed ``crewos-tui --demo`` in a real terminal (a private tmux server, 80x24):
``a`` on the review screen, then the process is ended from outside inside the undo
window — SIGTERM, SIGHUP, or the terminal itself closed (what a dropped SSH session
does). The decision must be in the database afterwards, read by a service layer of
the test's own. The undo window is an hour (``CREWOS_TUI_REVIEW_UNDO``), so only the
way out can have sent it."""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from crewos_tui import paths
from crewos_tui.backend.local.services import Services

from .conftest import fast_settings
from .test_app_pty import crewos_command, wait_for

pytestmark = pytest.mark.pty

FIRST = "Weekly update: Atlas beta"  # the oldest pending item of the demo data: first in the queue


class Terminal:
    """One ``crewos-tui --demo`` in a tmux session of a tmux server of the test's own."""

    def __init__(self, tmp_path: Path) -> None:
        tmux = shutil.which("tmux")
        if tmux is None:
            if os.environ.get("CI"):
                pytest.fail("tmux is not installed (the CI script installs it)")
            pytest.skip("tmux is not installed")
        self.tmux = tmux
        self.socket = f"crewos-sig-{os.getpid()}-{tmp_path.name}"  # never the user's tmux server
        self.data = tmp_path / "data"
        self.pid_file, self.rc_file = tmp_path / "pid", tmp_path / "rc"
        env = {
            "CREWOS_TUI_DATA_DIR": str(self.data),
            "CREWOS_TUI_CONFIG_DIR": str(tmp_path / "config"),
            "CREWOS_TUI_REVIEW_UNDO": "3600",
            "TERM": "xterm-256color",
        }
        app = " ".join(shlex.quote(part) for part in [*crewos_command(), "--demo"])
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        # The app's own pid (exec keeps it), its exit code, and a pane kept open to read.
        inner = f"echo $$ > {shlex.quote(str(self.pid_file))}; exec env {exports} {app}"
        script = f"sh -c {shlex.quote(inner)}; echo $? > {shlex.quote(str(self.rc_file))}; sleep 60"
        self.tm("new-session", "-d", "-s", "crewos", "-x", "80", "-y", "24", script)

    def tm(self, *args: str) -> str:
        return subprocess.run([self.tmux, "-L", self.socket, *args], capture_output=True, text=True,
                              check=True).stdout

    def pane(self) -> str:
        return self.tm("capture-pane", "-p", "-t", "crewos")

    @property
    def pid(self) -> int:
        return int(self.pid_file.read_text())

    def exited(self) -> bool:
        """Gone, or a zombie nobody has reaped yet (in a container no init may reap it)."""
        try:
            return Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X")
        except (FileNotFoundError, ProcessLookupError):
            return True

    def hold_an_approval(self) -> None:
        wait_for(lambda: "Atlas Launch" in self.pane(), 60, "the demo projects")
        self.tm("send-keys", "-t", "crewos", "4")
        wait_for(lambda: FIRST[:20] in self.pane(), 30, "the review queue")
        self.tm("send-keys", "-t", "crewos", "a")
        wait_for(lambda: "undoes approve" in self.pane(), 30, "the decision held in its undo window")

    def close(self) -> None:
        subprocess.run([self.tmux, "-L", self.socket, "kill-server"], capture_output=True, check=False)


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
